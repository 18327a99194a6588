import assert from "node:assert/strict";
import { CircuitBreaker } from "../../../src/plugins/wasm/breaker.ts";
import { PluginError } from "../../../src/plugins/transport.ts";
import { fixture, load, req, text } from "./support.ts";

Deno.test("breaker: opens after the threshold, half-opens after the cool-down", () => {
  let now = 0;
  const b = new CircuitBreaker({ failureThreshold: 3, cooldownMs: 1000, now: () => now });
  for (let i = 0; i < 2; i++) {
    assert.ok(b.admit());
    b.record(false);
  }
  assert.equal(b.state, "closed");
  assert.ok(b.admit());
  b.record(false);
  assert.equal(b.state, "open");
  assert.equal(b.admit(), false);
  now = 999;
  assert.equal(b.admit(), false);
  now = 1000;
  assert.equal(b.state, "half_open");
  assert.ok(b.admit(), "one trial call");
  assert.equal(b.admit(), false, "only one trial at a time");
  b.record(false);
  assert.equal(b.state, "open", "failed trial re-opens");
  now = 2000;
  assert.ok(b.admit());
  b.record(true);
  assert.equal(b.state, "closed");
  assert.ok(b.admit());
});

Deno.test("breaker: a success resets the consecutive-failure count", () => {
  const b = new CircuitBreaker({ failureThreshold: 2, now: () => 0 });
  b.record(false);
  b.record(true);
  b.record(false);
  assert.equal(b.state, "closed");
});

Deno.test("breaker: a plugin that keeps failing is skipped fast, then retried", async () => {
  let now = 0;
  const p = await load("flaky", await fixture("hostile"), {
    breaker: { failureThreshold: 2, cooldownMs: 5000, now: () => now },
  });
  try {
    for (let i = 0; i < 2; i++) {
      assert.equal((await p.call(req("T"), 500).catch((e) => e)).kind, "trap");
    }
    const started = performance.now();
    const skipped = await p.call(req("{}"), 500).catch((e) => e);
    assert.ok(skipped instanceof PluginError);
    assert.equal(skipped.kind, "unavailable");
    assert.match(skipped.message, /circuit open/);
    assert.ok(performance.now() - started < 20);
    now = 5000;
    assert.equal(text(await p.call(req("{}"), 500)), "{}");
  } finally {
    await p.close();
  }
});

Deno.test("breaker: explain's calls (observed: false) neither open it nor take the trial", async () => {
  let now = 0;
  const p = await load("explained", await fixture("hostile"), {
    breaker: { failureThreshold: 2, cooldownMs: 5000, now: () => now },
  });
  const diagnostic = { observed: false };
  try {
    // Failing diagnostic calls, as many as you like: players' calls still go ahead.
    for (let i = 0; i < 4; i++) {
      assert.equal((await p.call(req("T"), 500, diagnostic).catch((e) => e)).kind, "trap");
    }
    assert.equal(p.circuitOpen, false);
    assert.equal(text(await p.call(req("{}"), 500)), "{}");
    // Opened by players' failures, it skips a diagnostic call as it skips a player's …
    for (let i = 0; i < 2; i++) await p.call(req("T"), 500).catch(() => {});
    const skipped = await p.call(req("{}"), 500, diagnostic).catch((e) => e);
    assert.equal(skipped.kind, "unavailable");
    assert.match(skipped.message, /circuit open/);
    // … and when half-open, the one trial is left to a player's call, which closes it.
    now = 5000;
    assert.equal((await p.call(req("{}"), 500, diagnostic).catch((e) => e)).kind, "unavailable");
    assert.equal(text(await p.call(req("{}"), 500)), "{}");
    assert.equal(p.circuitOpen, false);
  } finally {
    await p.close();
  }
});

Deno.test("breaker: admit(false) lets a diagnostic call through only while closed", () => {
  let now = 0;
  const b = new CircuitBreaker({ failureThreshold: 1, cooldownMs: 10, now: () => now });
  assert.ok(b.admit(false));
  b.record(false);
  assert.equal(b.admit(false), false, "open");
  now = 10;
  assert.equal(b.admit(false), false, "half-open");
  assert.ok(b.admit(true), "a player's call takes the trial");
});

Deno.test("pool: one slow call does not queue the others; excess calls queue", async () => {
  const p = await load("pool", await fixture("hostile"), { instances: 2, timeoutMs: 300 });
  try {
    const slow = p.call(req("L"), 300).catch((e) => e);
    const started = performance.now();
    const quick = await Promise.all(Array.from({ length: 50 }, () => p.call(req("{}"), 300)));
    assert.equal(quick.length, 50);
    assert.ok(performance.now() - started < 250, "quick calls waited for the slow one");
    assert.equal((await slow).kind, "timeout");
  } finally {
    await p.close();
  }
});

Deno.test("pool: calls after close fail as unavailable", async () => {
  const p = await load("closed", await fixture("hostile"));
  await p.close();
  await p.close();
  const e = await p.call(req("{}"), 100).catch((e) => e);
  assert.equal(e.kind, "unavailable");
});
