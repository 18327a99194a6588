import { assert, assertEquals } from "../support/assert.ts";
import { Logger, printable } from "../../src/observability/mod.ts";

function capture(format: "text" | "json") {
  const lines: string[] = [];
  const sink = { write: (l: string) => lines.push(l), now: () => new Date(0) };
  return { lines, logger: new Logger({ level: "debug", format, sink }) };
}

// Anything a reader could take as the end of a line (Python's splitlines() included: \n, \r,
// \v, \f, \x1c-\x1e, NEL, U+2028, U+2029), or a terminal as a command (C0, DEL, C1).
const UNSAFE = /[\p{Cc}\u2028\u2029]/u;

// Hostile text: a forged line after a newline, CR, an ANSI colour escape, U+2028/U+2029, NEL,
// DEL, a tab and a fake field.
const HOSTILE = "ok\n1970-01-01T00:00:00.000Z ERROR forged admin=true\r\x1b[31mred\u2028x" +
  "\u2029y\x85z\x7f\tw";
const HOSTILE_ESCAPED = String.raw`"ok\n1970-01-01T00:00:00.000Z ERROR forged admin=true` +
  String.raw`\r\x1b[31mred\u2028x\u2029y\x85z\x7f\tw"`;

function assertOneSafeLine(lines: string[]): void {
  assertEquals(lines.length, 1);
  assert(!UNSAFE.test(lines[0]!), `raw line break or control in ${JSON.stringify(lines[0])}`);
}

Deno.test("text: a hostile message is one line, quoted, every control character escaped", () => {
  const { lines, logger } = capture("text");
  logger.with({ plugin: "p" }).info(HOSTILE, { source: "plugin" });
  assertOneSafeLine(lines);
  assertEquals(
    lines[0],
    `1970-01-01T00:00:00.000Z INFO  ${HOSTILE_ESCAPED} plugin=p source=plugin`,
  );
});

Deno.test("text: hostile field values are one line, quoted and escaped", () => {
  const { lines, logger } = capture("text");
  logger.warn("plugin failed", { reason: HOSTILE, quote: 'x" admin="true', empty: "" });
  assertOneSafeLine(lines);
  assertEquals(
    lines[0],
    `1970-01-01T00:00:00.000Z WARN  plugin failed reason=${HOSTILE_ESCAPED}` +
      String.raw` quote="x\" admin=\"true" empty=""`,
  );
});

Deno.test("text: a message that looks like fields, or has a backslash, is quoted", () => {
  const { lines, logger } = capture("text");
  logger.info("login user=admin");
  logger.info(String.raw`a\nb`); // a backslash and an n: must not read like a newline
  logger.info('say "hi"');
  logger.info("");
  logger.info(" padded ");
  assertEquals(lines, [
    '1970-01-01T00:00:00.000Z INFO  "login user=admin"',
    String.raw`1970-01-01T00:00:00.000Z INFO  "a\\nb"`,
    String.raw`1970-01-01T00:00:00.000Z INFO  "say \"hi\""`,
    '1970-01-01T00:00:00.000Z INFO  ""',
    '1970-01-01T00:00:00.000Z INFO  " padded "',
  ]);
});

Deno.test("text: plain messages, also non-ASCII ones, stay bare and readable", () => {
  const { lines, logger } = capture("text");
  logger.warn("second stop signal: exiting now", { signal: "SIGTERM" });
  logger.info("café prêt ✓", { name: "café" });
  assertEquals(lines, [
    "1970-01-01T00:00:00.000Z WARN  second stop signal: exiting now signal=SIGTERM",
    '1970-01-01T00:00:00.000Z INFO  café prêt ✓ name="café"',
  ]);
});

Deno.test("text: bidi overrides are escaped, so a line cannot be reordered on screen", () => {
  const { lines, logger } = capture("text");
  logger.info("a\u202eb", { v: "c\u2066d" });
  assertEquals(lines, [String.raw`1970-01-01T00:00:00.000Z INFO  "a\u202eb" v="c\u2066d"`]);
});

Deno.test("json: hostile message and fields are one line and parse back unchanged", () => {
  const { lines, logger } = capture("json");
  logger.with({ plugin: "p" }).error(HOSTILE, { reason: HOSTILE, source: "plugin" });
  assertOneSafeLine(lines);
  // The characters JSON.stringify leaves raw are escaped too.
  for (const escape of [String.raw`\u2028`, String.raw`\u2029`, String.raw`\u0085`]) {
    assert(lines[0]!.includes(escape), `${escape} missing in ${lines[0]}`);
  }
  assertEquals(JSON.parse(lines[0]!), {
    time: "1970-01-01T00:00:00.000Z",
    level: "error",
    msg: HOSTILE,
    plugin: "p",
    reason: HOSTILE,
    source: "plugin",
  });
});

Deno.test("printable: control characters and line separators are escaped, the rest kept", () => {
  assertEquals(printable("a\nb\x1b[31m\u2028é\\"), "a\\nb\\x1b[31m\\u2028é\\");
});
