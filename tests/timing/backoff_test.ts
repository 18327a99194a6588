import assert from "node:assert/strict";
import { Backoff, backoffDelay, MAX_TIMER_MS } from "../../src/timing/mod.ts";

/** The delays of `n` consecutive failures. */
function delays(backoff: Backoff, n: number): number[] {
  return Array.from({ length: n }, () => backoff.fail());
}

Deno.test("backoff: doubles from initialMs by default, capped at maxMs", () => {
  const b = new Backoff({ initialMs: 100, maxMs: 1_000 });
  assert.deepEqual(delays(b, 6), [100, 200, 400, 800, 1_000, 1_000]);
  assert.equal(b.failures, 6);
});

Deno.test("backoff: a multiplier sets the growth", () => {
  const b = new Backoff({ initialMs: 100, maxMs: 5_000, multiplier: 1.6 });
  const got = delays(b, 4).map((d) => Math.round(d * 1000) / 1000);
  assert.deepEqual(got, [100, 160, 256, 409.6]);
});

Deno.test("backoff: no failure, no delay; delay() reads the current step without counting", () => {
  const b = new Backoff({ initialMs: 200, maxMs: 30_000 });
  assert.equal(b.delay(), 0);
  assert.equal(b.failures, 0);
  b.fail();
  b.fail();
  assert.equal(b.delay(), 400);
  assert.equal(b.delay(), 400);
  assert.equal(b.failures, 2);
});

Deno.test("backoff: reset starts again at initialMs", () => {
  const b = new Backoff({ initialMs: 10, maxMs: 500 });
  delays(b, 5);
  b.reset();
  assert.equal(b.failures, 0);
  assert.equal(b.delay(), 0);
  assert.deepEqual(delays(b, 2), [10, 20]);
});

Deno.test("backoff: full jitter is uniform below the step, drawn per delay", () => {
  const draws = [0, 0.5, 0.999];
  const b = new Backoff({ initialMs: 500, maxMs: 30_000, jitter: "full" }, () => draws.shift()!);
  assert.deepEqual(delays(b, 3), [0, 500, 0.999 * 2_000]);
  // Bounds for any draw in [0, 1): [0, step).
  for (const r of [0, 0.25, 0.999_999]) {
    const d = backoffDelay({ initialMs: 500, maxMs: 30_000, jitter: "full" }, 10, () => r);
    assert.ok(d >= 0 && d < 30_000, `${d}`);
  }
});

Deno.test("backoff: relative jitter scales the capped step by [1 - r, 1 + r)", () => {
  const options = { initialMs: 100, maxMs: 5_000, multiplier: 1.6, jitter: 0.2 };
  assert.equal(backoffDelay(options, 1, () => 0), 80);
  assert.equal(backoffDelay(options, 1, () => 0.5), 100);
  assert.ok(Math.abs(backoffDelay(options, 1, () => 0.999_999) - 120) < 1e-3);
  // Applied after the cap, so it may pass maxMs by up to r.
  assert.equal(backoffDelay(options, 50, () => 0), 4_000);
  assert.ok(Math.abs(backoffDelay(options, 50, () => 0.999_999) - 6_000) < 1e-2);
});

Deno.test("backoff: no jitter draws no randomness", () => {
  const b = new Backoff({ initialMs: 1, maxMs: 10 }, () => {
    throw new Error("drawn");
  });
  assert.deepEqual(delays(b, 2), [1, 2]);
});

Deno.test("backoff: a long outage stays at the cap (no Infinity or NaN)", () => {
  assert.equal(backoffDelay({ initialMs: 500, maxMs: 30_000 }, 5_000), 30_000);
  assert.equal(backoffDelay({ initialMs: 0, maxMs: 30_000 }, 5_000), 0);
});

Deno.test("MAX_TIMER_MS is the largest delay a timer honours", () => {
  assert.equal(MAX_TIMER_MS, 2_147_483_647);
});
