/** Router.explain: the decision with its steps, without moving round robin or allocating. */
import assert from "node:assert/strict";
import type { Backend } from "../../src/config/mod.ts";
import { compileRouter } from "../../src/routing/mod.ts";
import {
  backend,
  decideOk,
  hosts,
  loaded,
  NOT_FULL,
  pool,
  request,
  routing,
  sequence,
  single,
} from "./fixtures.ts";

Deno.test("explain: route, pattern, and each pass's filter, sort, limit and pick", async () => {
  const backends: readonly Backend[] = [
    loaded("a", "4"),
    loaded("b", "10"),
    loaded("c", "2"),
    loaded("d", "7"),
  ];
  const router = compileRouter(routing([[
    ["*.play.example"],
    pool({
      strategy: "least_loaded",
      key: "counter:players.count",
      backends,
      filters: [NOT_FULL],
      sort: [{ key: "counter:players.count", type: "number", order: "desc" }],
      limit: 2,
    }),
  ]]));
  const { result, trace } = await router.explain(request("eu.play.example"));
  assert.equal(trace.route, "routes[0]");
  assert.deepEqual(trace.matched, { hostname: "*.play.example", glob: true });
  assert.deepEqual(hosts(trace.resolved.map((c) => c.backend)), ["a", "b", "c", "d"]);
  assert.equal(trace.allocation, null);
  assert.equal(trace.attempts.length, 1);
  const [pass] = trace.attempts;
  assert.equal(pass!.strategy, "least_loaded");
  assert.deepEqual(hosts(pass!.afterFilters), ["a", "c", "d"]);
  assert.deepEqual(hosts(pass!.afterSort), ["d", "a", "c"]);
  assert.deepEqual(hosts(pass!.afterLimit), ["d", "a"]);
  assert.equal(pass!.picked, 1);
  assert.equal(pass!.note, null);
  assert.ok(result.ok);
  assert.equal(result.decision.backend.host, "a");
  // The same as a real decision.
  assert.equal(decideOk(router, "eu.play.example").backend.host, "a");
});

Deno.test("explain: a pass whose filters leave nothing says so; the fallback picks", async () => {
  const router = compileRouter(single(pool({
    backends: [loaded("a", "10"), loaded("b", "12")],
    filters: [NOT_FULL],
    fallback: [{ filters: [], strategy: "least_loaded", key: "counter:players.count" }],
  })));
  const { result, trace } = await router.explain(request("x"));
  assert.equal(trace.attempts.length, 2);
  const [own, fallback] = trace.attempts;
  assert.deepEqual(own!.afterFilters, []);
  assert.equal(own!.picked, -1);
  assert.match(own!.note ?? "", /filters left no candidate/);
  assert.equal(fallback!.strategy, "least_loaded");
  assert.deepEqual(hosts(fallback!.afterLimit), ["a", "b"]);
  assert.equal(fallback!.picked, 0);
  assert.ok(result.ok);
  assert.equal(result.decision.strategy, "least_loaded");
});

Deno.test("explain: round robin shows the next real pick without consuming the turn", async () => {
  const router = compileRouter(
    single(pool({ backends: [backend("a"), backend("b"), backend("c")] })),
  );
  for (const expected of ["a", "b", "c", "a"]) {
    for (let i = 0; i < 3; i++) {
      const { result } = await router.explain(request("x"));
      assert.ok(result.ok);
      assert.equal(result.decision.backend.host, expected);
    }
    assert.equal(decideOk(router, "x").backend.host, expected);
  }
});

Deno.test("explain: drained candidates are listed, marked and left out of the passes", async () => {
  const drained = new Set(["b:5520"]);
  const router = compileRouter(
    single(pool({ backends: [backend("a"), backend("b"), backend("c")] })),
    { drained: () => drained },
  );
  const { trace } = await router.explain(request("x"));
  assert.deepEqual(trace.resolved.map((c) => [c.backend.host, c.drained]), [
    ["a", false],
    ["b", true],
    ["c", false],
  ]);
  assert.deepEqual(hosts(trace.attempts[0]!.afterFilters), ["a", "c"]);
  drained.add("a:5520").add("c:5520");
  const all = await router.explain(request("x"));
  assert.equal(all.result.ok ? "ok" : all.result.error.code, "no_backends");
  assert.deepEqual(all.trace.attempts, []);
});

Deno.test("explain: no route, the default pool, discovered backends", async () => {
  const none = await compileRouter(single(pool({ backends: [backend("a")] }))).explain(
    request("y"),
  );
  assert.equal(none.trace.route, null);
  assert.equal(none.result.ok ? "ok" : none.result.error.code, "no_route");
  const found = [backend("d1", { port: 7 })];
  const router = compileRouter(
    routing([], pool({ backends: [backend("s")], discovery: { provider: "k8s", mode: "union" } })),
    { discovered: () => found },
  );
  const { trace, result } = await router.explain(request(null));
  assert.equal(trace.route, "default");
  assert.equal(trace.matched, null);
  assert.deepEqual(hosts(trace.resolved.map((c) => c.backend)), ["d1", "s"]);
  assert.ok(result.ok);
  assert.equal(result.decision.backend.host, "d1");
});

Deno.test("explain: a pool that allocates per connection is not asked to allocate", async () => {
  let calls = 0;
  const router = compileRouter(
    single(pool({ backends: [backend("s")], discovery: { provider: "agones", mode: "prefer" } })),
    {
      allocator: () => () => {
        calls++;
        return Promise.resolve(backend("gs"));
      },
    },
  );
  const { trace, result } = await router.explain(request("x"));
  assert.equal(calls, 0);
  assert.equal(trace.allocation, "agones");
  assert.deepEqual(hosts(trace.resolved.map((c) => c.backend)), ["s"]);
  assert.ok(!result.ok);
  assert.equal(result.error.code, "discovery");
  assert.match(result.error.message, /explain does not allocate/);
});

Deno.test("explain: random strategies draw from the router's source, once per pick", async () => {
  const router = compileRouter(
    single(pool({ strategy: "random", backends: [backend("a"), backend("b")] })),
    { random: sequence(0.9) },
  );
  const { result } = await router.explain(request("x"));
  assert.ok(result.ok);
  assert.equal(result.decision.backend.host, "b");
});
