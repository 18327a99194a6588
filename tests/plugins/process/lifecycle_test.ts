import assert from "node:assert/strict";
import type { Backend } from "../../../src/config/mod.ts";
import { Logger } from "../../../src/observability/mod.ts";
import {
  configureLine,
  LifecycleDispatcher,
  type LifecycleEvents,
  parseTargets,
  readLines,
} from "../../../src/plugins/process/lifecycle.ts";
import { PluginLog } from "../../../src/plugins/wasm/plugin_log.ts";

function streamOf(...chunks: (string | Uint8Array)[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  return ReadableStream.from(chunks.map((c) => typeof c === "string" ? enc.encode(c) : c));
}

async function linesOf(
  stream: ReadableStream<Uint8Array>,
  max: number,
  cut = false,
): Promise<[string[], string]> {
  const out: string[] = [];
  const end = await readLines(stream, max, (l) => out.push(l), cut);
  return [out, end];
}

Deno.test("readLines: lines split across chunks, a last line without newline", async () => {
  assert.deepEqual(await linesOf(streamOf('{"a":', '1}\n{"b"', ":2}\n\ntail"), 100), [
    ['{"a":1}', '{"b":2}', "", "tail"],
    "ended",
  ]);
});

Deno.test("readLines: a line over the limit ends reading with too_long", async () => {
  // Within one chunk, and built up over several chunks without a newline.
  assert.deepEqual(await linesOf(streamOf("ok\n", "x".repeat(11) + "\nnever\n"), 10), [
    ["ok"],
    "too_long",
  ]);
  assert.deepEqual(await linesOf(streamOf("12345", "67890", "1"), 10), [[], "too_long"]);
  // Exactly the limit is fine.
  assert.deepEqual(await linesOf(streamOf("12345", "67890\n"), 10), [["1234567890"], "ended"]);
});

Deno.test("readLines (cut): an over-long line is cut at the limit, its rest skipped", async () => {
  assert.deepEqual(await linesOf(streamOf("abc", "defgh", "ij\nnext\n"), 4, true), [
    ["abcd", "next"],
    "ended",
  ]);
});

Deno.test("configureLine: prox's Request {method, params} as one JSON line", () => {
  const line = new TextDecoder().decode(configureLine("guard", "/r/g/p.sock", "/r/g", { k: 1 }));
  assert.equal(
    line,
    '{"method":"configure","params":{"route_id":"guard","socket":"/r/g/p.sock",' +
      '"socket_dir":"/r/g","config":{"k":1}}}\n',
  );
});

interface Seen {
  ready: [string, readonly string[]][];
  answers: (string | null)[];
  targets: [string, readonly Backend[]][];
}

function setup(
  now?: () => number,
): { d: LifecycleDispatcher; logs: string[]; events: LifecycleEvents; seen: Seen } {
  const logs: string[] = [];
  const logger = new Logger({
    level: "debug",
    format: "json",
    sink: { write: (line) => logs.push(line), now: () => new Date(0) },
    fields: { plugin: "guard" },
  });
  const seen: Seen = { ready: [], answers: [], targets: [] };
  const events: LifecycleEvents = {
    ready: (socket, hooks) => seen.ready.push([socket, hooks]),
    answer: (error) => seen.answers.push(error),
    targets: (id, backends) => seen.targets.push([id, backends]),
  };
  return { d: new LifecycleDispatcher(logger, new PluginLog(logger), now), logs, events, seen };
}

const parsed = (logs: string[]) => logs.map((l) => JSON.parse(l));

Deno.test("dispatcher: ready, answers and log pushes", () => {
  const { d, logs, events, seen } = setup();
  d.line('{"result":"ok"}', events);
  d.line('{"error":"bad key"}', events);
  d.line('{"method":"ready","params":{"socket":"/s","hooks":["on_connect"]}}', events);
  d.line('{"method":"log","params":{"level":"warn","message":"hi","args":[1,"x"]}}', events);
  assert.deepEqual(seen.answers, [null, "bad key"]);
  assert.deepEqual(seen.ready, [["/s", ["on_connect"]]]);
  assert.deepEqual(parsed(logs).map((l) => [l.level, l.msg, l.plugin, l.source]), [
    ["warn", 'hi [1,"x"]', "guard", "plugin"],
  ]);
});

Deno.test("dispatcher: a non-JSON line and an unknown method are logged, named and skipped", () => {
  const { d, logs, events, seen } = setup();
  d.line("hello there", events);
  d.line("[1,2]", events);
  d.line('{"method":"on_fire","params":{}}', events);
  d.line("y".repeat(5000), events);
  const lines = parsed(logs);
  assert.equal(lines.length, 4);
  assert.ok(lines.every((l) => l.plugin === "guard" && l.level === "warn"));
  assert.match(lines[0].msg, /not a JSON object/);
  assert.equal(lines[0].line, "hello there");
  assert.match(lines[2].msg, /unknown lifecycle method/);
  assert.equal(lines[2].method, "on_fire");
  assert.ok(lines[3].line.length <= 201, "a skipped line is quoted truncated");
  assert.deepEqual(seen, { ready: [], answers: [], targets: [] });
});

Deno.test("dispatcher: set_speed is logged once as ignored", () => {
  const { d, logs, events } = setup();
  for (let i = 0; i < 3; i++) d.line('{"method":"set_speed","params":{"download_mbps":1}}', events);
  assert.equal(parsed(logs).filter((l) => /set_speed ignored/.test(l.msg)).length, 1);
});

Deno.test("dispatcher: set_targets by route_id or action; bad entries dropped and logged", () => {
  const { d, logs, events, seen } = setup();
  d.line(
    JSON.stringify({
      method: "set_targets",
      params: { route_id: "lobbies", targets: ["10.0.0.1:5520", "nope", "h:0", "h:70000", 5] },
    }),
    events,
  );
  d.line(
    '{"method":"set_targets","params":{"action":"games","groups":{"eu":["[::1]:9"]}}}',
    events,
  );
  d.line('{"method":"set_targets","params":{"targets":["a:1"]}}', events);
  assert.deepEqual(seen.targets, [
    ["lobbies", [{ host: "10.0.0.1", port: 5520, weight: 1, meta: null }]],
    ["games", [{ host: "::1", port: 9, weight: 1, meta: { group: "eu" } }]],
  ]);
  const warns = parsed(logs);
  assert.equal(warns.length, 2);
  assert.match(warns[0].msg, /set_targets entries dropped/);
  assert.equal(warns[0].dropped, 4);
  assert.equal(warns[0].set, "lobbies");
  assert.equal(warns[0].plugin, "guard");
  assert.match(warns[1].msg, /without route_id or action/);
});

Deno.test("parseTargets: targets plain, groups with meta group, both at once", () => {
  assert.deepEqual(
    parseTargets({ targets: ["a.example:1"], groups: { x: ["b:2", "c"], y: "notalist" } }),
    {
      backends: [
        { host: "a.example", port: 1, weight: 1, meta: null },
        { host: "b", port: 2, weight: 1, meta: { group: "x" } },
      ],
      dropped: ["c", "notalist"],
    },
  );
});

Deno.test("dispatcher: a flood of bad lines is paced and the skipped warnings counted", () => {
  let now = 0;
  const { d, logs, events } = setup(() => now);
  for (let i = 0; i < 100; i++) d.line(`garbage ${i}`, events);
  assert.equal(logs.length, 20, "the burst");
  now += 1_000; // five more warnings' worth
  for (let i = 0; i < 10; i++) d.line(`more ${i}`, events);
  const lines = parsed(logs);
  assert.equal(lines.length, 25);
  assert.equal(lines[20].suppressed, 80, "the next warning counts the ones skipped");
  assert.equal(lines[20].line, "more 0");
  assert.equal(lines[21].suppressed, undefined);
});
