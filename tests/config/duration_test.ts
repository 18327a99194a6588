import assert from "node:assert/strict";
import { ConfigError, parseConfig, parseDuration } from "../../src/config/mod.ts";

Deno.test("parseDuration reads Go durations as milliseconds", () => {
  const cases: [string, number][] = [
    ["250ms", 250],
    ["30s", 30_000],
    ["1m", 60_000],
    ["1h30m", 5_400_000],
    ["1.5s", 1_500],
    [".5s", 500],
    ["1.s", 1_000],
    ["2h45m30.5s", 9_930_500],
    ["1500us", 1.5],
    ["1500\u00b5s", 1.5],
    ["1500\u03bcs", 1.5],
    ["1000000ns", 1],
    ["1ns", 0.000001],
    ["0", 0],
    ["+0", 0],
    ["-0", 0],
    ["0s", 0],
    ["-1.5m", -90_000],
    ["+5s", 5_000],
    ["1m1m", 120_000],
  ];
  for (const [text, ms] of cases) assert.equal(parseDuration(text), ms, text);
});

Deno.test("parseDuration refuses what Go refuses, saying why", () => {
  const cases: [string, string][] = [
    ["5", 'missing unit in duration "5"'],
    ["5x", 'unknown unit "x" in duration "5x"'],
    ["5 s", 'unknown unit " s" in duration "5 s"'],
    ["1h-5m", 'unknown unit "h-" in duration "1h-5m"'],
    ["", 'invalid duration ""'],
    ["-", 'invalid duration "-"'],
    [".s", 'invalid duration ".s"'],
    ["s", 'invalid duration "s"'],
    ["5S", 'unknown unit "S" in duration "5S"'],
    ["3000000h", 'invalid duration "3000000h"'],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseDuration(text), (e: unknown) => {
      assert.ok(e instanceof ConfigError, text);
      assert.equal(e.code, "invalid");
      assert.equal(e.message, message);
      return true;
    });
  }
});

Deno.test("the largest Go duration still parses; one nanosecond more does not", () => {
  assert.equal(parseDuration("9223372036854775807ns"), 9223372036854.775);
  assert.equal(parseDuration("-9223372036854775808ns"), -9223372036854.775);
  assert.throws(() => parseDuration("9223372036854775808ns"), ConfigError);
});

Deno.test("config durations: idle timeout defaults, '' and 0 mean 30s; connect timeout defaults to 5s", () => {
  const idle = (v: string) =>
    parseConfig(`quic: { max_idle_timeout: ${v} }\n`, "c.yaml").quic.maxIdleTimeoutMs;
  assert.equal(parseConfig("", "c.yaml").quic.maxIdleTimeoutMs, 30_000);
  assert.equal(idle("1m30s"), 90_000);
  assert.equal(idle("''"), 30_000);
  assert.equal(idle("0"), 30_000);
  assert.equal(idle("~"), 30_000);
  const timeout = (v: string) =>
    parseConfig(`limits: { connect_timeout: ${v} }\n`, "c.yaml").limits.connectTimeoutMs;
  assert.equal(parseConfig("", "c.yaml").limits.connectTimeoutMs, 5_000);
  assert.equal(timeout("250ms"), 250);
  assert.equal(timeout("1.5s"), 1_500);
});
