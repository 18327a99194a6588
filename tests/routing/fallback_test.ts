import assert from "node:assert/strict";
import type { Backend, FilterConfig } from "../../src/config/mod.ts";
import { compileRouter } from "../../src/routing/mod.ts";
import { decideErr, decideOk, hosts, loaded, NOT_FULL, pool, routing, single } from "./fixtures.ts";

const LOW: FilterConfig = {
  type: "compare",
  left: "counter:players.count",
  op: "lt",
  right: "counter:low",
};
const full: readonly Backend[] = [loaded("a", "10"), loaded("b", "12"), loaded("c", "11")];

Deno.test("fallback: not used while the pool's own filters leave candidates", () => {
  const router = compileRouter(single(pool({
    backends: [loaded("a", "10"), loaded("b", "3")],
    filters: [NOT_FULL],
    fallback: [{ filters: [], strategy: "random" }],
  })));
  const d = decideOk(router, "x");
  assert.deepEqual(hosts(d.candidates), ["b"]);
  assert.equal(d.strategy, "round_robin");
});

Deno.test("fallback: tried in order; the first with candidates picks", () => {
  const router = compileRouter(
    single(pool({
      backends: full,
      filters: [NOT_FULL],
      fallback: [
        { filters: [LOW] }, // still nothing: no backend has counter.low
        { filters: [], strategy: "least_loaded", key: "counter:players.count" },
        { filters: [], strategy: "random" },
      ],
    })),
    { random: () => assert.fail("the third fallback must not run") },
  );
  const d = decideOk(router, "x");
  assert.equal(d.strategy, "least_loaded");
  assert.equal(d.poolStrategy, "round_robin", "what the Go router reports");
  assert.equal(d.backend.host, "a");
});

Deno.test("fallback: overrides the pool's settings, not the previous fallback's", () => {
  const router = compileRouter(single(pool({
    backends: full,
    strategy: "least_loaded",
    key: "counter:players.count",
    limit: 2,
    sort: [{ key: "host", order: "desc", type: "string" }],
    filters: [NOT_FULL],
    fallback: [
      { filters: [LOW], limit: 1, key: "host" },
      { filters: [] }, // keeps the pool's strategy, key, sort and limit
    ],
  })));
  const d = decideOk(router, "x");
  assert.deepEqual(hosts(d.candidates), ["c", "b"], "pool sort desc + pool limit 2");
  assert.equal(d.backend.host, "c", "least counter.players.count among c(11), b(12)");
});

Deno.test("fallback: an empty sort list clears the pool's sort", () => {
  const router = compileRouter(single(pool({
    backends: full,
    sort: [{ key: "host", order: "desc", type: "string" }],
    filters: [NOT_FULL],
    fallback: [{ filters: [], sort: [] }],
  })));
  assert.deepEqual(hosts(decideOk(router, "x").candidates), ["a", "b", "c"]);
});

Deno.test("fallback: none leaves a candidate → no_backends", () => {
  const router = compileRouter(single(pool({
    backends: full,
    filters: [NOT_FULL],
    fallback: [{ filters: [LOW] }, { sample: 3 }],
  })));
  const err = decideErr(router, "x");
  assert.equal(err.code, "no_backends");
  assert.equal(err.route, "routes[0]");
});

Deno.test("no_backends: an empty pool, labelled with its route", () => {
  const router = compileRouter(routing([[["x"], pool()]], pool()));
  assert.equal(decideErr(router, "x").route, "routes[0]");
  const err = decideErr(router, "y");
  assert.equal(err.code, "no_backends");
  assert.equal(err.route, "default");
});

Deno.test("routing error: a keyless least_loaded/p2c pass fails when it gets to pick", () => {
  // The Go router stops here with a routing error instead of trying later fallbacks.
  const router = compileRouter(single(pool({
    backends: full,
    filters: [NOT_FULL],
    fallback: [{ filters: [], strategy: "p2c" }, { filters: [] }],
  })));
  const err = decideErr(router, "x");
  assert.equal(err.code, "routing");
  assert.match(err.message, /key must not be empty for strategy p2c/);

  // Not reached → no error: the pool's own pass succeeds.
  const fine = compileRouter(single(pool({
    backends: [loaded("a", "1")],
    fallback: [{ strategy: "least_loaded" }],
  })));
  assert.equal(decideOk(fine, "x").backend.host, "a");
});

Deno.test("decide never throws: a failing injected random becomes a routing error", () => {
  const router = compileRouter(single(pool({ strategy: "random", backends: full })), {
    random: () => {
      throw new Error("entropy ran out");
    },
  });
  const err = decideErr(router, "x");
  assert.equal(err.code, "routing");
  assert.equal(err.route, "routes[0]");
  assert.match(err.message, /entropy ran out/);
});
