import { Logger } from "../../src/observability/mod.ts";

/** A logger that drops every line: for tests that assert on behaviour, not on logs. */
export function silentLogger(): Logger {
  return new Logger({
    level: "error",
    format: "text",
    sink: { write() {}, now: () => new Date() },
  });
}
