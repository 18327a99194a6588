import assert from "node:assert/strict";
import { type Backend, STRATEGY_NAMES, type StrategyName } from "../../src/config/mod.ts";
import { compileRouter } from "../../src/routing/mod.ts";
import { createStrategy } from "../../src/routing/strategies/create.ts";
import type { PickContext, Strategy } from "../../src/routing/strategies/strategy.ts";
import { backend, decideOk, pool, routing, seeded, sequence, single } from "./fixtures.ts";

const KEY = "counter:load";

function loaded(host: string, load: string | null, weight = 1): Backend {
  return backend(host, { weight, meta: load === null ? {} : { "counter.load": load } });
}

/** A fresh context: its own round-robin counter starting at 0. */
function context(random: () => number): PickContext {
  let turn = 0;
  return { random, nextTurn: () => turn++ };
}

function make(strategy: StrategyName, sample = 0): Strategy {
  return createStrategy({ strategy, key: KEY, sample });
}

const LISTS: readonly (readonly Backend[])[] = [1, 2, 3, 5, 8].map((n) =>
  Array.from({ length: n }, (_, i) => loaded(`b${i}`, i % 3 === 0 ? null : String((i * 7) % 5), i))
);

// ---- Conformance: every strategy, same cases -------------------------------------------------

for (const name of STRATEGY_NAMES) {
  Deno.test(`conformance ${name}: always an index in range`, () => {
    const strategy = make(name);
    const random = seeded(1);
    for (const list of LISTS) {
      const ctx = context(random);
      for (let k = 0; k < 50; k++) {
        const i = strategy.pick(list, ctx);
        assert.ok(
          Number.isInteger(i) && i >= 0 && i < list.length,
          `${name}: ${i} of ${list.length}`,
        );
      }
    }
  });

  Deno.test(`conformance ${name}: in range even when random misbehaves`, () => {
    const strategy = make(name, 3);
    for (const r of [0, 0.9999999999999999, 1, 1.5, -0.25, NaN]) {
      for (const list of LISTS) {
        const i = strategy.pick(list, context(() => r));
        assert.ok(Number.isInteger(i) && i >= 0 && i < list.length, `${name}: r=${r} → ${i}`);
      }
    }
  });

  Deno.test(`conformance ${name}: deterministic for a given seed`, () => {
    const run = () => {
      const strategy = make(name);
      const ctx = context(seeded(42));
      return LISTS.flatMap((list) => Array.from({ length: 20 }, () => strategy.pick(list, ctx)));
    };
    assert.deepEqual(run(), run());
  });

  Deno.test(`conformance ${name}: a single candidate is index 0`, () => {
    const strategy = make(name, 5);
    const ctx = context(seeded(7));
    for (const only of [loaded("a", "3"), loaded("a", null, 0), loaded("a", "nan", -1)]) {
      for (let k = 0; k < 10; k++) assert.equal(strategy.pick([only], ctx), 0);
    }
  });
}

// ---- round_robin ----------------------------------------------------------------------------

Deno.test("round_robin: counter++ mod n", () => {
  const rr = make("round_robin");
  const ctx = context(() => assert.fail("round_robin must not draw"));
  const three = LISTS[2]!;
  const picks = Array.from({ length: 7 }, () => rr.pick(three, ctx));
  assert.deepEqual(picks, [0, 1, 2, 0, 1, 2, 0]);
  // The counter is the route's, not the list's: a shorter list continues from it.
  assert.equal(rr.pick(LISTS[1]!, ctx), 1); // turn 7 mod 2
});

Deno.test("round_robin: each route and the default pool count separately", () => {
  const three = [backend("a"), backend("b"), backend("c")];
  const router = compileRouter(
    routing(
      [[["x"], pool({ backends: three })], [["y"], pool({ backends: three })]],
      pool({
        backends: three,
      }),
    ),
  );
  const host = (sni: string) => decideOk(router, sni).backend.host;
  assert.deepEqual([host("x"), host("x"), host("y"), host("z"), host("x"), host("y")], [
    "a",
    "b",
    "a",
    "a",
    "c",
    "b",
  ]);
});

Deno.test("round_robin: the counter is shared with the pool's fallbacks", () => {
  // Backend "full" fails the base filter only while the request's uuid is "block".
  const backends = [
    backend("a", { meta: { "wl.on": "true", "wl.list": "ok" } }),
    backend("b", { meta: { "wl.on": "true", "wl.list": "ok" } }),
  ];
  const router = compileRouter(single(pool({
    backends,
    filters: [{ type: "whitelist", enabledKey: "wl.on", listKey: "wl.list", subject: "uuid" }],
    fallback: [{ filters: [] }],
  })));
  assert.equal(decideOk(router, "x", { uuid: "ok" }).backend.host, "a"); // base, turn 0
  assert.equal(decideOk(router, "x", { uuid: "other" }).backend.host, "b"); // fallback, turn 1
  assert.equal(decideOk(router, "x", { uuid: "ok" }).backend.host, "a"); // base, turn 2
});

// ---- random ---------------------------------------------------------------------------------

Deno.test("random: index = floor(r · n)", () => {
  const random = make("random");
  const four = LISTS[3]!.slice(0, 4);
  const picks = [0, 0.2499, 0.25, 0.74, 0.99].map((r) => random.pick(four, context(() => r)));
  assert.deepEqual(picks, [0, 0, 1, 2, 3]);
});

Deno.test("random: roughly uniform", () => {
  const random = make("random");
  const ctx = context(seeded(3));
  const four = LISTS[3]!.slice(0, 4);
  const counts = [0, 0, 0, 0];
  for (let k = 0; k < 40_000; k++) counts[random.pick(four, ctx)]!++;
  for (const c of counts) assert.ok(Math.abs(c - 10_000) < 600, `counts ${counts}`);
});

// ---- weighted -------------------------------------------------------------------------------

Deno.test("weighted: one draw over the weight total picks by running sum", () => {
  const w = make("weighted");
  const list = [loaded("a", null, 1), loaded("b", null, 3)];
  const at = (r: number) => w.pick(list, context(sequence(r)));
  assert.equal(at(0), 0);
  assert.equal(at(0.2499), 0);
  assert.equal(at(0.25), 1);
  assert.equal(at(0.9999), 1);
});

Deno.test("weighted: a weight of 0 or less counts as 1", () => {
  const w = make("weighted");
  const list = [loaded("a", null, 0), loaded("b", null, -5), loaded("c", null, 2)]; // 1 + 1 + 2
  const at = (r: number) => w.pick(list, context(sequence(r)));
  assert.deepEqual([at(0.2), at(0.26), at(0.49), at(0.5), at(0.99)], [0, 1, 1, 2, 2]);
});

Deno.test("weighted: probability proportional to weight", () => {
  const w = make("weighted");
  const list = [loaded("a", null, 1), loaded("b", null, 3), loaded("c", null, 6)];
  const ctx = context(seeded(11));
  const counts = [0, 0, 0];
  for (let k = 0; k < 50_000; k++) counts[w.pick(list, ctx)]!++;
  const expected = [5_000, 15_000, 30_000];
  counts.forEach((c, i) => assert.ok(Math.abs(c - expected[i]!) < 700, `counts ${counts}`));
});

// ---- least_loaded ---------------------------------------------------------------------------

Deno.test("least_loaded: smallest numeric key, first of a tie", () => {
  const ll = make("least_loaded");
  const ctx = context(() => assert.fail("least_loaded must not draw"));
  assert.equal(ll.pick([loaded("a", "10"), loaded("b", "3"), loaded("c", "7")], ctx), 1);
  assert.equal(ll.pick([loaded("a", "5"), loaded("b", "2"), loaded("c", "2")], ctx), 1);
  assert.equal(ll.pick([loaded("a", "1"), loaded("b", "-4.5")], ctx), 1);
});

Deno.test("least_loaded: non-numeric skipped; none numeric → 0", () => {
  const ll = make("least_loaded");
  const ctx = context(Math.random);
  assert.equal(ll.pick([loaded("a", null), loaded("b", "abc"), loaded("c", "9")], ctx), 2);
  // Go's ParseFloat: " 3" has a space (missing); "1_0" is 10; "inf"/"nan" never compare smaller.
  assert.equal(ll.pick([loaded("a", " 3"), loaded("b", "1_0"), loaded("c", "11")], ctx), 1);
  assert.equal(ll.pick([loaded("a", "inf"), loaded("b", "nan"), loaded("c", "")], ctx), 0);
  assert.equal(ll.pick([loaded("a", "x"), loaded("b", null), loaded("c", "0x10")], ctx), 0);
});

// ---- p2c ------------------------------------------------------------------------------------

Deno.test("p2c: sample 0 draws two distinct candidates and keeps the smaller", () => {
  const p = make("p2c", 0);
  const list = [loaded("a", "5"), loaded("b", "1"), loaded("c", "3")];
  // First draw: floor(0.9 · 3) = 2. Second: from the two not yet drawn, floor(0.9 · 2) = the
  // last of [a, b] after the shuffle moved a into c's place → a. Smaller of c(3), a(5) → c.
  assert.equal(p.pick(list, context(sequence(0.9, 0.9))), 2);
  // Draws a (0.0) then b (0.0 of the remaining [b, c]) → b has 1.
  assert.equal(p.pick(list, context(sequence(0, 0))), 1);
});

Deno.test("p2c: the sample is capped at the candidate count", () => {
  const p = make("p2c", 10);
  const list = [loaded("a", "5"), loaded("b", "1"), loaded("c", "3")];
  // Exactly three draws (sequence() fails on a fourth): every candidate is seen.
  assert.equal(p.pick(list, context(sequence(0.5, 0.5, 0.5))), 1);
});

Deno.test("p2c: a tie keeps the first drawn; missing counts as +Inf", () => {
  const p = make("p2c", 2);
  const tie = [loaded("a", "2"), loaded("b", "2"), loaded("c", "9")];
  assert.equal(p.pick(tie, context(sequence(0.4, 0))), 1); // draws b then a
  assert.equal(p.pick(tie, context(sequence(0, 0))), 0); // draws a then b
  const missing = [loaded("a", null), loaded("b", "100")];
  assert.equal(p.pick(missing, context(sequence(0, 0))), 1);
});

Deno.test("p2c: when no drawn candidate has a value the answer is index 0", () => {
  const p = make("p2c", 2);
  const list = [loaded("a", "1"), loaded("b", null), loaded("c", "nan")];
  // Draws c then b: neither numeric → 0, although a was never drawn.
  assert.equal(p.pick(list, context(sequence(0.99, 0.2))), 0);
});

Deno.test("p2c: the least loaded of two random choices, in distribution", () => {
  const p = make("p2c", 2);
  const list = [loaded("a", "1"), loaded("b", "2"), loaded("c", "3")];
  const ctx = context(seeded(5));
  const counts = [0, 0, 0];
  for (let k = 0; k < 30_000; k++) counts[p.pick(list, ctx)]!++;
  // a wins whenever drawn (2/3), b when the pair is {b, c} (1/3), c never.
  assert.ok(Math.abs(counts[0]! - 20_000) < 500, `counts ${counts}`);
  assert.ok(Math.abs(counts[1]! - 10_000) < 500, `counts ${counts}`);
  assert.equal(counts[2], 0);
});
