/** The decisions ring and the Server-Sent Events stream of the admin API. */
import assert from "node:assert/strict";
import {
  decisionJson,
  DecisionLog,
  type DecisionRecord,
  eventStream,
} from "../../src/observability/mod.ts";

function decision(username: string, client: string | null = null): DecisionRecord {
  return {
    at: Date.UTC(2026, 11, 2, 18, 0, 0),
    sni: "play.example.com",
    username,
    uuid: "",
    route: "routes[0]",
    backend: "a:1",
    outcome: "referral",
    plugins: [],
    durationMs: 1.23456,
    client,
  };
}

Deno.test("decision log: keeps the newest `capacity`, newest first", () => {
  const log = new DecisionLog(3);
  assert.deepEqual(log.recent(10), []);
  for (const name of ["a", "b", "c", "d", "e"]) log.record(decision(name));
  assert.deepEqual(log.recent(10).map((d) => d.username), ["e", "d", "c"]);
  assert.deepEqual(log.recent(2).map((d) => d.username), ["e", "d"]);
});

Deno.test("decision log: listeners hear each record until they unsubscribe; a throwing one is dropped", async () => {
  const log = new DecisionLog(2);
  const heard: string[] = [];
  const stop = log.subscribe((d) => heard.push(d.username));
  log.subscribe(() => {
    throw new Error("broken listener");
  });
  log.record(decision("a"));
  log.record(decision("b"));
  assert.deepEqual(heard, [], "listeners hear after the recording code has run on");
  await Promise.resolve();
  assert.deepEqual(heard, ["a", "b"]);
  assert.equal(log.listeners, 1);
  stop();
  log.record(decision("c"));
  await Promise.resolve();
  assert.deepEqual(heard, ["a", "b"]);
  assert.equal(log.listeners, 0);
});

Deno.test("decision JSON: ISO time, rounded duration, client only when recorded", () => {
  const json = decisionJson(decision("a"));
  assert.equal(json.time, "2026-12-02T18:00:00.000Z");
  assert.equal(json.duration_ms, 1.23);
  assert.equal("client" in json, false);
  assert.equal(decisionJson(decision("a", "10.0.0.1:4000")).client, "10.0.0.1:4000");
});

async function readAll(response: Response): Promise<string> {
  return await response.text();
}

Deno.test("event stream: events in order; ends when the signal aborts", async () => {
  const abort = new AbortController();
  let emit: ((event: string, data: unknown) => void) | null = null;
  let unsubscribed = false;
  const response = eventStream({
    signal: abort.signal,
    subscribe: (e) => {
      emit = e;
      return () => unsubscribed = true;
    },
  });
  assert.equal(response.headers.get("content-type"), "text/event-stream; charset=utf-8");
  emit!("decision", { n: 1 });
  emit!("state", { on: true });
  abort.abort();
  assert.equal(
    await readAll(response),
    ': connected\n\nevent: decision\ndata: {"n":1}\n\nevent: state\ndata: {"on":true}\n\n',
  );
  assert.equal(unsubscribed, true);
});

Deno.test("event stream: large events count for their size, bounding the bytes held", async () => {
  let emit: ((event: string, data: unknown) => void) | null = null;
  let unsubscribed = false;
  const response = eventStream({
    signal: new AbortController().signal,
    subscribe: (e) => {
      emit = e;
      return () => unsubscribed = true;
    },
  });
  // 64 KiB each: 16 units apiece, so the 256-unit queue takes 15 of them, not 256 (16 MiB).
  const big = "x".repeat(64 * 1024);
  let sent = 0;
  while (!unsubscribed && sent < 256) emit!("state", { big, n: sent++ });
  assert.ok(unsubscribed, "cut off");
  assert.ok(sent <= 17, `${sent} events of 64 KiB were queued`);
  await response.body!.cancel();
});

Deno.test("event stream: a client that does not read is cut off, not buffered for", async () => {
  let emit: ((event: string, data: unknown) => void) | null = null;
  let unsubscribed = false;
  const response = eventStream({
    signal: new AbortController().signal,
    maxQueued: 4,
    subscribe: (e) => {
      emit = e;
      return () => unsubscribed = true;
    },
  });
  for (let i = 0; i < 100; i++) emit!("decision", { i });
  assert.equal(unsubscribed, true);
  const text = await readAll(response);
  assert.ok((text.match(/event: decision/g) ?? []).length < 5, text);
});
