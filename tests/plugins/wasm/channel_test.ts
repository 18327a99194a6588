import assert from "node:assert/strict";
import { CallChannel, MAX_MESSAGE_BYTES } from "../../../src/plugins/wasm/channel.ts";
import { PluginError } from "../../../src/plugins/transport.ts";
import { captureLogger, fixture, load, req, text } from "./support.ts";

const hostile = await fixture("hostile");
const SILENT_WORKER = new URL("./silent_worker.ts", import.meta.url);

Deno.test("channel: a request and its answer pass through one buffer, growing it on demand", () => {
  const router = new CallChannel();
  const worker = new CallChannel(router.buffer);
  const big = new Uint8Array(200_000).map((_, i) => i % 251);
  const before = router.lastAnswer;
  const seq = router.post(big, 1234.5);
  assert.equal(worker.nextRequest(before, 10), seq);
  assert.deepEqual(worker.request(), big);
  assert.equal(worker.deadline(), 1234.5);
  assert.ok(!router.answered(seq));
  const bigger = new Uint8Array(500_000).map((_, i) => i % 241);
  worker.stage(bigger);
  worker.answerOk(seq);
  assert.ok(router.answered(seq));
  assert.deepEqual(router.readAnswer(), { ok: true, response: bigger });
  const next = router.post(new Uint8Array(1), 0);
  worker.answerFail(next, "timeout", "too slow");
  assert.deepEqual(router.readAnswer(), { ok: false, kind: "timeout", message: "too slow" });
});

Deno.test("channel: oversized messages are refused, stop wakes both sides", async () => {
  const router = new CallChannel();
  const worker = new CallChannel(router.buffer);
  assert.throws(() => router.post(new Uint8Array(MAX_MESSAGE_BYTES + 1), 0), RangeError);
  const waiting = router.whenAnswered(router.lastAnswer);
  assert.ok(waiting !== null);
  router.stop();
  await waiting; // released without an answer
  assert.equal(worker.nextRequest(0, 10), null);
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
  const p = await load("channel-close", hostile, { instances: 1 });
  const spinning = p.call(req("L"), 10_000).catch((e) => e);
  // Let the call reach the worker before closing.
  await new Promise((resolve) => setTimeout(resolve, 20));
  const started = performance.now();
  await p.close();
  const e = await spinning;
  assert.ok(e instanceof PluginError, String(e));
  assert.equal(e.kind, "unavailable");
  assert.ok(performance.now() - started < 100);
});
