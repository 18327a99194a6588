import assert from "node:assert/strict";
import { quantile } from "../../bench/measure.ts";

// Expectations worked out by hand from the nearest-rank rule: sorted[ceil(q·n) − 1].
const ONE_TO_TEN = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

Deno.test("quantile: nearest rank of 1..10", () => {
  const cases: [number, number][] = [
    [0, 1],
    [0.1, 1],
    [0.15, 2],
    [0.5, 5],
    [0.9, 9],
    [0.99, 10],
    [1, 10],
  ];
  for (const [q, want] of cases) assert.equal(quantile(ONE_TO_TEN, q), want, `q=${q}`);
});

Deno.test("quantile: a Float64Array reads the same as a number array", () => {
  const samples = Float64Array.from(ONE_TO_TEN);
  for (const q of [0, 0.5, 0.9, 0.99, 1]) {
    assert.equal(quantile(samples, q), quantile(ONE_TO_TEN, q), `q=${q}`);
  }
});

Deno.test("quantile: always an observed sample, never an interpolation", () => {
  // n = 4: p50 is rank 2 (not 2.5), p75 rank 3, p76 rank 4.
  const four = [10, 20, 30, 40];
  assert.equal(quantile(four, 0.5), 20);
  assert.equal(quantile(four, 0.75), 30);
  assert.equal(quantile(four, 0.76), 40);
  // n = 100: p99 is the 99th sample, not the maximum (floor(q·n) would read index 99).
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(quantile(hundred, 0.99), 99);
  assert.equal(quantile(hundred, 0.5), 50);
});

Deno.test("quantile: one sample is every quantile; q outside [0, 1] clamps", () => {
  for (const q of [0, 0.5, 1]) assert.equal(quantile([7], q), 7);
  assert.equal(quantile(ONE_TO_TEN, -1), 1);
  assert.equal(quantile(ONE_TO_TEN, 2), 10);
});

Deno.test("quantile: NaN when there are no samples", () => {
  assert.ok(Number.isNaN(quantile([], 0.5)));
  assert.ok(Number.isNaN(quantile(new Float64Array(0), 0.99)));
});
