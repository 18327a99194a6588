import assert from "node:assert/strict";
import { CallChannel, MAX_MESSAGE_BYTES, RING_SIZE } from "../../../src/plugins/wasm/channel.ts";
import { PluginError } from "../../../src/plugins/transport.ts";
import { WasmHost } from "../../../src/plugins/wasm/host.ts";
import { captureLogger, fixture, load, req, text } from "./support.ts";

const hostile = await fixture("hostile");
const SILENT_WORKER = new URL("./silent_worker.ts", import.meta.url);

Deno.test("channel: a worker waiting for requests runs its idle check at each wake-up", () => {
  const router = new CallChannel();
  const worker = new CallChannel(router.buffers);
  let idle = 0;
  // Nothing is posted until the second idle check (a real router nudges from its own thread).
  const got = worker.waitRequest(0, 5, () => {
    if (++idle === 2) router.post(new Uint8Array(1), 0);
  });
  assert.ok(got);
  assert.equal(idle, 2);
});

Deno.test("channel: a request and its answer pass through one entry, growing it on demand", () => {
  const router = new CallChannel();
  const worker = new CallChannel(router.buffers);
  const big = new Uint8Array(200_000).map((_, i) => i % 251);
  assert.ok(!worker.hasRequest(0));
  const seq = router.post(big, 1234.5);
  assert.equal(seq, 0);
  assert.ok(worker.waitRequest(seq, 10));
  assert.ok(worker.claim(seq));
  assert.deepEqual(worker.request(seq), big);
  assert.equal(worker.deadline(seq), 1234.5);
  assert.ok(!router.hasAnswer());
  const bigger = new Uint8Array(500_000).map((_, i) => i % 241);
  worker.stage(seq, bigger);
  worker.answerOk(seq);
  assert.ok(router.hasAnswer());
  assert.deepEqual(router.takeAnswer(), { ok: true, response: bigger });
  assert.ok(!router.hasAnswer());
  const next = router.post(new Uint8Array(1), 0);
  worker.answerFail(next, "timeout", "too slow");
  assert.deepEqual(router.takeAnswer(), { ok: false, kind: "timeout", message: "too slow" });
});

Deno.test("channel: a full ring of requests is answered in order, entries reused after reading", () => {
  const router = new CallChannel();
  const worker = new CallChannel(router.buffers);
  let seq = 0;
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < RING_SIZE; i++) router.post(new Uint8Array([round, i]), i);
    assert.equal(router.inFlight, RING_SIZE);
    for (let i = 0; i < RING_SIZE; i++, seq = (seq + 1) | 0) {
      assert.ok(worker.hasRequest(seq) && worker.claim(seq));
      assert.deepEqual([...worker.request(seq)], [round, i]);
      assert.equal(worker.deadline(seq), i);
      worker.stage(seq, new Uint8Array([i, round, 9]));
      worker.answerOk(seq);
    }
    assert.ok(!worker.hasRequest(seq));
    for (let i = 0; i < RING_SIZE; i++) {
      assert.deepEqual(router.takeAnswer(), { ok: true, response: new Uint8Array([i, round, 9]) });
    }
    assert.equal(router.inFlight, 0);
  }
});

Deno.test("channel: a request not yet claimed can be cancelled, a claimed one cannot", () => {
  const router = new CallChannel();
  const worker = new CallChannel(router.buffers);
  const a = router.post(new Uint8Array([1]), 0);
  const b = router.post(new Uint8Array([2]), 0);
  assert.ok(worker.claim(a));
  assert.ok(!router.cancel(a));
  assert.ok(router.cancel(b));
  assert.ok(!worker.claim(b));
});

Deno.test("channel: isAnswered tells a published answer from one still being worked on", () => {
  // The deadline sweep must not stop an instance whose answer is published but not yet read.
  const router = new CallChannel();
  const worker = new CallChannel(router.buffers);
  const a = router.post(new Uint8Array([1]), 0);
  const b = router.post(new Uint8Array([2]), 0);
  assert.ok(!router.isAnswered(a) && !router.isAnswered(b));
  worker.claim(a);
  worker.stage(a, new Uint8Array([9]));
  worker.answerOk(a);
  assert.ok(router.isAnswered(a), "published, not read yet");
  assert.ok(!router.isAnswered(b));
  router.takeAnswer();
  assert.ok(router.isAnswered(a), "still answered once read");
});

Deno.test("channel: sequence numbers wrap around int32 without losing their entries", () => {
  // Sequence numbers are int32 and wrap; entries are picked with a mask, so -1, 0, 1 differ.
  const router = new CallChannel();
  const worker = new CallChannel(router.buffers);
  for (const seq of [-2, -1, 0, 1]) worker.stage(seq, new Uint8Array([seq & 0xff]));
  for (const seq of [-2, -1, 0, 1]) assert.deepEqual([...worker.request(seq)], [seq & 0xff]);
});

Deno.test("channel: oversized messages are refused, stop wakes both sides", async () => {
  const router = new CallChannel();
  const worker = new CallChannel(router.buffers);
  assert.throws(() => router.post(new Uint8Array(MAX_MESSAGE_BYTES + 1), 0), RangeError);
  assert.equal(router.inFlight, 0);
  const waiting = router.whenAnswered();
  assert.ok(waiting !== null);
  router.stop();
  await waiting; // released without an answer
  assert.equal(worker.waitRequest(0, 10), false);
});

Deno.test("channel: requests and responses larger than its first size work through the host", async () => {
  const p = await load("channel-big", hostile, { instances: 1, workerUrl: SILENT_WORKER });
  try {
    const body = `echo:${"x".repeat(300_000)}`;
    assert.equal(text(await p.call(req(body), 2000)), body);
    assert.equal(text(await p.call(req("{}"), 2000)), "{}");
  } finally {
    await p.close();
  }
});

Deno.test("channel: a worker that exits mid-call is replaced and its successor's channel works", async () => {
  const { logger } = captureLogger();
  const p = await load("channel-exit", hostile, {
    logger,
    instances: 1,
    terminateGraceMs: 20,
    workerUrl: SILENT_WORKER,
  });
  try {
    const e = await p.call(req("exit"), 100).catch((e) => e);
    assert.ok(e instanceof PluginError, String(e));
    assert.equal(e.kind, "timeout");
    // The replacement comes after the grace period; calls meanwhile queue for it.
    assert.equal(text(await p.call(req("{}"), 2000)), "{}");
    assert.equal(text(await p.call(req("{}"), 2000)), "{}");
  } finally {
    await p.close();
  }
});

Deno.test("channel: closing the plugin mid-call rejects the call at once", async () => {
  const { logger, log } = captureLogger();
  const p = await load("channel-close", hostile, { instances: 1, logger });
  // "B" logs a line, then spins: once the line is in, the call is running in the worker.
  const spinning = p.call(req("B"), 10_000).catch((e) => e);
  await log.next(/"msg":"spinning"/, 5_000);
  const started = performance.now();
  await p.close();
  const e = await spinning;
  assert.ok(e instanceof PluginError, String(e));
  assert.equal(e.kind, "unavailable");
  assert.ok(performance.now() - started < 100);
});

Deno.test("channel: many concurrent calls over two workers each get their own answer", async () => {
  const p = await load("channel-many", hostile, { instances: 2, workerUrl: SILENT_WORKER });
  try {
    const bodies = Array.from({ length: 300 }, (_, i) => `echo:${i}`);
    const answers = await Promise.all(bodies.map((b) => p.call(req(b), 5000)));
    assert.deepEqual(answers.map(text), bodies);
  } finally {
    await p.close();
  }
});

Deno.test("channel: calls queued behind a slow call move to a free worker", async () => {
  // "S" sleeps until its deadline on one worker; the fast calls, some first queued behind it
  // on the same channel, are answered by the other worker long before the slow one ends.
  const p = await load("channel-slow", hostile, { instances: 2, timeoutMs: 5000 });
  try {
    let slowSettled = false;
    const slow = p.call(req("S"), 2000).catch((e) => e).finally(() => slowSettled = true);
    const fast = Array.from({ length: 40 }, () => p.call(req("{}"), 3000));
    assert.deepEqual((await Promise.all(fast)).map(text), fast.map(() => "{}"));
    assert.equal(slowSettled, false);
    await slow; // ends at its deadline (as a timeout, or an answer if the sleep wins the race)
  } finally {
    await p.close();
  }
});

Deno.test("channel: a spinning call is stopped at its timeout and the calls queued behind it run", async () => {
  const p = await load("channel-spin", hostile, { instances: 1, timeoutMs: 5000 });
  try {
    const spinning = p.call(req("L"), 200).catch((e) => e);
    const after = Array.from({ length: 5 }, () => p.call(req("{}"), 5000));
    const e = await spinning;
    assert.ok(e instanceof PluginError, String(e));
    assert.equal(e.kind, "timeout");
    assert.deepEqual((await Promise.all(after)).map(text), after.map(() => "{}"));
  } finally {
    await p.close();
  }
});

Deno.test("channel: with every worker dead and restarts backing off, calls fail fast", async () => {
  // The first worker starts fine; its replacements cannot even load, so the host backs off.
  let broken = false;
  const host = new WasmHost({
    name: "channel-down",
    module: await WebAssembly.compile(hostile as Uint8Array<ArrayBuffer>),
    config: req("{}"),
    instances: 1,
    initTimeoutMs: 2000,
    terminateGraceMs: 20,
    logger: captureLogger().logger,
    breaker: {},
    get workerUrl() {
      return broken
        ? new URL("data:text/javascript,throw new Error('cannot start')")
        : SILENT_WORKER;
    },
  });
  await host.start();
  try {
    broken = true;
    const exit = await host.call(req("exit"), 100).catch((e) => e);
    assert.equal(exit.kind, "timeout");
    // Queued for the replacement, which fails to load: fails as unavailable, not at its timeout.
    const queued = await host.call(req("{}"), 60_000).catch((e) => e);
    assert.ok(queued instanceof PluginError, String(queued));
    assert.equal(queued.kind, "unavailable");
    const later = await host.call(req("{}"), 60_000).catch((e) => e);
    assert.equal(later.kind, "unavailable");
  } finally {
    await host.close();
  }
});
