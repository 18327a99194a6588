import assert from "node:assert/strict";
import { Logger, type LogLevel } from "../../../src/observability/mod.ts";
import {
  DEFAULT_DROP_WARNING_INTERVAL_MS,
  DEFAULT_LOG_BURST,
  DEFAULT_LOG_LINES_PER_SECOND,
  MAX_LOG_TEXT,
  PluginLog,
  TokenBucket,
} from "../../../src/plugins/wasm/plugin_log.ts";
import { PluginError } from "../../../src/plugins/transport.ts";
import { fixture, load, req } from "./support.ts";

const DROP_WARNING = "plugin log lines dropped (rate limit)";

/** A plugin logger (`plugin=p`) writing into `lines`, in `format`, at `level` and above. */
function capture(format: "text" | "json", level: LogLevel = "debug") {
  const lines: string[] = [];
  const logger = new Logger({
    level,
    format,
    sink: { write: (line) => lines.push(line), now: () => new Date(0) },
  });
  return { lines, logger, plugin: logger.with({ plugin: "p" }) };
}

/** A PluginLog on a clock the test sets; `logged()` gives its JSON lines as [level, msg, n]. */
function limited(options: { burst: number; linesPerSecond: number }, level: LogLevel = "debug") {
  const clock = { ms: 0 };
  const { lines, plugin } = capture("json", level);
  const log = new PluginLog(plugin, { ...options, now: () => clock.ms });
  const logged = () =>
    lines.splice(0).map((l) => {
      const o = JSON.parse(l);
      return [o.level, o.msg, o.msg === DROP_WARNING ? o.dropped : o.source];
    });
  return { clock, log, logged };
}

Deno.test("PluginLog: the burst passes, the next line warns at once with the count", () => {
  const { log, logged } = limited({ burst: 3, linesPerSecond: 1 });
  for (let i = 0; i < 6; i++) log.write(1, "plugin", `line ${i}`);
  assert.deepEqual(logged(), [
    ["info", "line 0", "plugin"],
    ["info", "line 1", "plugin"],
    ["info", "line 2", "plugin"],
    ["warn", DROP_WARNING, 1],
  ]);
});

Deno.test("PluginLog: the bucket refills at the rate; held-back counts come before the next line", () => {
  const { clock, log, logged } = limited({ burst: 2, linesPerSecond: 2 });
  for (let i = 0; i < 5; i++) log.write(2, "stderr", "a"); // 2 pass, 3 dropped
  assert.equal(logged().length, 3);
  clock.ms = 400; // 0.8 tokens: still dropped, and the warning interval has not passed
  log.write(2, "stderr", "b");
  assert.deepEqual(logged(), []);
  clock.ms = 1000; // 2 tokens: both pass; the 3 unreported drops are reported first
  log.write(2, "stderr", "c");
  log.write(3, "plugin", "d");
  assert.deepEqual(logged(), [
    ["warn", DROP_WARNING, 3],
    ["warn", "c", "stderr"],
    ["error", "d", "plugin"],
  ]);
  clock.ms = 10_000; // refilled only up to the burst
  for (let i = 0; i < 3; i++) log.write(0, "stdout", "e");
  assert.deepEqual(logged().map((l) => l[1]), ["e", "e", DROP_WARNING]);
});

Deno.test("PluginLog: one drop warning per period, the counts adding up to every drop", () => {
  const { clock, log, logged } = limited({ burst: 10, linesPerSecond: 0 });
  for (let i = 0; i < 5000; i++) {
    clock.ms = i; // 5 s of flooding, 1000 lines a second
    log.write(1, "plugin", "x");
  }
  const out = logged();
  const warnings = out.filter((l) => l[1] === DROP_WARNING);
  assert.equal(out.length - warnings.length, 10);
  // At the first drop (t = 10 ms), then once per period: t = 1010, 2010, 3010, 4010.
  assert.equal(warnings.length, Math.ceil(5000 / DEFAULT_DROP_WARNING_INTERVAL_MS));
  assert.deepEqual(warnings.map((w) => w[2]), [1, 1000, 1000, 1000, 1000]);
  clock.ms = 6000;
  log.write(1, "plugin", "x");
  assert.deepEqual(logged(), [["warn", DROP_WARNING, 990]]); // 4989 drops + this one in all
});

Deno.test("PluginLog: lines below the log level cost no budget", () => {
  const { log, logged } = limited({ burst: 2, linesPerSecond: 0 }, "info");
  for (let i = 0; i < 100; i++) log.write(0, "plugin", "debug noise");
  log.write(1, "plugin", "one");
  log.write(2, "plugin", "two");
  assert.deepEqual(logged().map((l) => l[1]), ["one", "two"]);
});

Deno.test("PluginLog: defaults; text is cut at MAX_LOG_TEXT", () => {
  const clock = { ms: 0 };
  const { lines, plugin } = capture("json");
  const log = new PluginLog(plugin, { now: () => clock.ms });
  log.write(1, "plugin", "y".repeat(MAX_LOG_TEXT + 10));
  assert.equal(JSON.parse(lines[0]!).msg.length, MAX_LOG_TEXT);
  for (let i = 1; i < DEFAULT_LOG_BURST + 5; i++) log.write(1, "plugin", "z");
  assert.equal(lines.length, DEFAULT_LOG_BURST + 1); // the burst, then one drop warning
  clock.ms = 1000;
  lines.length = 0;
  for (let i = 0; i < 2 * DEFAULT_LOG_LINES_PER_SECOND; i++) log.write(1, "plugin", "z");
  const kept = lines.filter((l) => JSON.parse(l).msg === "z").length;
  assert.equal(kept, DEFAULT_LOG_LINES_PER_SECOND);
});

Deno.test("PluginLog: text format writes a forging plugin line as one escaped message", () => {
  const { lines, plugin } = capture("text");
  new PluginLog(plugin).write(1, "plugin", "ok\n1970-01-01T00:00:00.000Z ERROR x level=error");
  assert.deepEqual(lines, [
    String.raw`1970-01-01T00:00:00.000Z INFO  "ok\n1970-01-01T00:00:00.000Z ERROR x level=error"` +
    " plugin=p source=plugin",
  ]);
});

Deno.test("TokenBucket: a clock stepping back drains nothing; bad settings are refused", () => {
  const b = new TokenBucket(1, 1, 1000);
  assert.equal(b.take(1000), true);
  assert.equal(b.take(0), false);
  assert.equal(b.take(1999), false); // no credit for the step back, no refill yet
  assert.equal(b.take(2000), true);
  assert.throws(() => new TokenBucket(-1, 1, 0), RangeError);
  assert.throws(() => new TokenBucket(1, 0, 0), RangeError);
  assert.throws(() => new TokenBucket(NaN, 1, 0), RangeError);
});

Deno.test("plugin host: forged lines from gatehouse.log, stdout and stderr stay single escaped lines", async () => {
  const { lines, logger } = capture("text");
  const p = await load("forger", await fixture("log_forge"), { logger, instances: 1 });
  try {
    await p.call(req("{}"), 1000);
  } finally {
    await p.close();
  }
  const T = "1970-01-01T00:00:00.000Z";
  assert.deepEqual(lines.filter((l) => l.includes(" source=")), [
    String.raw`${T} INFO  "ok\n${T} ERROR forged level=error msg=\"pwned\""` +
    " plugin=forger source=plugin",
    String.raw`${T} INFO  "a\rb\u2028c level=warn" plugin=forger source=stdout`,
    String.raw`${T} WARN  "\x1b[31mred\x1b[0m" plugin=forger source=stderr`,
  ]);
  assert.ok(!lines.some((l) => /[\n\r\u2028\u2029]|\p{Cc}/u.test(l)), lines.join("\n"));
  assert.ok(!lines.some((l) => l.startsWith(`${T} ERROR`)), lines.join("\n"));
});

Deno.test("plugin host: the log limit holds across instance restarts", async () => {
  const { lines, logger } = capture("json");
  const started = performance.now();
  const p = await load("flood", await fixture("log_flood"), {
    logger,
    instances: 1,
    breaker: { failureThreshold: 1000 },
  });
  try {
    for (let i = 0; i < 20; i++) {
      // 400 lines, then a trap: each call runs in a new instance.
      const e = await p.call(req("{}"), 1000).catch((e) => e);
      assert.ok(e instanceof PluginError && e.kind === "trap", String(e));
    }
  } finally {
    await p.close();
  }
  const seconds = (performance.now() - started) / 1000;
  const logged = lines.map((l) => JSON.parse(l));
  const kept = logged.filter((l) => l.msg === "flood line").length;
  const warnings = logged.filter((l) => l.msg === DROP_WARNING);
  // 8000 lines were written, 400 per instance: only the plugin's budget may show.
  const budget = DEFAULT_LOG_BURST + DEFAULT_LOG_LINES_PER_SECOND * seconds;
  assert.ok(kept >= DEFAULT_LOG_BURST && kept <= budget, `${kept} lines in ${seconds} s`);
  const periods = Math.ceil((seconds * 1000) / DEFAULT_DROP_WARNING_INTERVAL_MS);
  assert.ok(warnings.length >= 1 && warnings.length <= periods, `${warnings.length} warnings`);
  assert.ok(warnings.every((w) => w.plugin === "flood" && w.dropped > 0));
  assert.ok(kept + warnings.length <= budget + periods);
});
