import { assertEquals } from "../support/assert.ts";
import { Logger, type LogLevel } from "../../src/observability/mod.ts";

function capture(level: LogLevel, format: "text" | "json") {
  const lines: string[] = [];
  const sink = { write: (l: string) => lines.push(l), now: () => new Date(0) };
  return { lines, logger: new Logger({ level, format, sink }) };
}

Deno.test("text lines carry time, level, message and quoted fields", () => {
  const { lines, logger } = capture("info", "text");
  logger.info("connection", { outcome: "referral", sni: "a b", ms: 1.5, skip: undefined });
  assertEquals(lines, [
    '1970-01-01T00:00:00.000Z INFO  connection outcome=referral sni="a b" ms=1.5',
  ]);
});

Deno.test("json lines are one object per line", () => {
  const { lines, logger } = capture("debug", "json");
  logger.with({ plugin: "auth" }).warn("slow", { ms: 3 });
  assertEquals(JSON.parse(lines[0]!), {
    time: "1970-01-01T00:00:00.000Z",
    level: "warn",
    msg: "slow",
    plugin: "auth",
    ms: 3,
  });
});

Deno.test("lines below the level are dropped", () => {
  const { lines, logger } = capture("warn", "text");
  logger.info("no");
  logger.debug("no");
  logger.error("yes");
  assertEquals(lines.length, 1);
  assertEquals(logger.enabled("info"), false);
});
