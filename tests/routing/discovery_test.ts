import assert from "node:assert/strict";
import type { Backend, PoolConfig } from "../../src/config/mod.ts";
import { compileRouter, type RouterOptions } from "../../src/routing/mod.ts";
import { backend, decideErr, decideOk, hosts, pool, request, single } from "./fixtures.ts";

const STATIC = [backend("s1", { port: 1 }), backend("shared", { port: 7 })];
const FOUND = [backend("d1", { port: 1 }), backend("shared", { port: 7, weight: 9 })];

function discovering(mode: "union" | "prefer", fields: Partial<PoolConfig> = {}): PoolConfig {
  return pool({ backends: STATIC, discovery: { provider: "agones", mode }, ...fields });
}

function fake(snapshots: Record<string, readonly Backend[]>) {
  const asked: string[] = [];
  const discovered: RouterOptions["discovered"] = (provider) => {
    asked.push(provider);
    const found = snapshots[provider];
    if (found === undefined) throw new Error(`unknown provider ${provider}`);
    return found;
  };
  return { asked, discovered };
}

Deno.test("discovery union: discovered first, then static, de-duplicated by host:port", () => {
  const { asked, discovered } = fake({ agones: FOUND });
  const router = compileRouter(single(discovering("union")), { discovered });
  const d = decideOk(router, "x");
  assert.deepEqual(hosts(d.candidates), ["d1", "shared", "s1"]);
  assert.equal(d.candidates[1]!.weight, 9, "the first occurrence (discovered) wins");
  assert.deepEqual(asked, ["agones"]);
});

Deno.test("discovery union: same host on another port is another backend", () => {
  const { discovered } = fake({ agones: [backend("s1", { port: 2 })] });
  const router = compileRouter(single(discovering("union")), { discovered });
  assert.deepEqual(
    decideOk(router, "x").candidates.map((b) => `${b.host}:${b.port}`),
    ["s1:2", "s1:1", "shared:7"],
  );
});

Deno.test("discovery prefer: discovered when there are any, else static", () => {
  const some = fake({ agones: FOUND });
  const router = compileRouter(single(discovering("prefer")), { discovered: some.discovered });
  assert.deepEqual(hosts(decideOk(router, "x").candidates), ["d1", "shared"]);

  const none = fake({ agones: [] });
  const empty = compileRouter(single(discovering("prefer")), { discovered: none.discovered });
  assert.deepEqual(hosts(decideOk(empty, "x").candidates), ["s1", "shared"]);
});

Deno.test("discovery prefer: duplicates within the discovered list are removed", () => {
  const { discovered } = fake({ agones: [...FOUND, backend("d1", { port: 1 })] });
  const router = compileRouter(single(discovering("prefer")), { discovered });
  assert.deepEqual(hosts(decideOk(router, "x").candidates), ["d1", "shared"]);
});

Deno.test("discovery: a static-only pool is taken as configured (no de-duplication)", () => {
  const twice = [backend("a", { port: 1 }), backend("a", { port: 1 })];
  const router = compileRouter(single(pool({ backends: twice })));
  assert.equal(decideOk(router, "x").candidates.length, 2);
});

Deno.test("discovery: a weighted pool sees weights ≤ 0 as 1", () => {
  const { discovered } = fake({
    agones: [backend("zero", { weight: 0 }), backend("two", { weight: 2 })],
  });
  const router = compileRouter(single(discovering("prefer", { strategy: "weighted" })), {
    discovered,
    random: () => 0.4, // 0.4 · (1 + 2) = 1.2 → "two"
  });
  const d = decideOk(router, "x");
  assert.deepEqual(d.candidates.map((b) => b.weight), [1, 2]);
  assert.equal(d.backend.host, "two");

  const rr = compileRouter(single(discovering("prefer")), { discovered });
  assert.deepEqual(decideOk(rr, "x").candidates.map((b) => b.weight), [0, 2], "only weighted");
});

Deno.test("discovery: nothing discovered and nothing static → no_backends", () => {
  const { discovered } = fake({ agones: [] });
  for (const mode of ["union", "prefer"] as const) {
    const router = compileRouter(single(discovering(mode, { backends: [] })), { discovered });
    assert.equal(decideErr(router, "x").code, "no_backends");
  }
});

Deno.test("discovery: a throwing lookup is a discovery error naming the provider", () => {
  const { discovered } = fake({});
  const router = compileRouter(single(discovering("union")), { discovered });
  const err = decideErr(router, "x");
  assert.equal(err.code, "discovery");
  assert.equal(err.route, "routes[0]");
  assert.match(err.message, /"agones"/);
  assert.ok(err.cause instanceof Error);
});

Deno.test("discovery: without a lookup, a discovery pool fails with code discovery", () => {
  const router = compileRouter(single(discovering("union")));
  assert.equal(decideErr(router, "x").code, "discovery");
});

Deno.test("discovery: the lookup runs per decision, so a new snapshot applies at once", () => {
  let current: readonly Backend[] = [backend("old")];
  const router = compileRouter(single(discovering("prefer")), { discovered: () => current });
  assert.equal(decideOk(router, "x").backend.host, "old");
  current = [backend("new")];
  assert.equal(decideOk(router, "x").backend.host, "new");
});

Deno.test("discovery: discovered backends go through filters and strategy", () => {
  const { discovered } = fake({
    agones: [
      backend("busy", { meta: { "counter.players.count": "40" } }),
      backend("quiet", { meta: { "counter.players.count": "2" } }),
    ],
  });
  const router = compileRouter(
    single(discovering("prefer", { strategy: "least_loaded", key: "counter:players.count" })),
    { discovered },
  );
  assert.equal(decideOk(router, "x").backend.host, "quiet");
});

/** An allocator for provider "agones" handing out `next()` per call, counting the calls. */
function allocating(next: () => Promise<Backend>) {
  let calls = 0;
  const allocator: RouterOptions["allocator"] = (provider) =>
    provider === "agones" ? () => (calls++, next()) : null;
  return { allocator, calls: () => calls };
}

Deno.test("discovery allocate: the decision waits for the connection's allocation, then merges by mode", async () => {
  const got = backend("gs-1", { port: 7403 });
  const { allocator, calls } = allocating(() => Promise.resolve(got));
  const union = compileRouter(single(discovering("union", { strategy: "round_robin" })), {
    allocator,
  });
  const pending = union.decide(request("x"));
  assert.ok(pending instanceof Promise, "an allocating pool decides asynchronously");
  const result = await pending;
  assert.ok(result.ok);
  assert.deepEqual(hosts(result.decision.candidates), ["gs-1", "s1", "shared"]);
  assert.equal(result.decision.backend.host, "gs-1");
  const prefer = compileRouter(single(discovering("prefer")), { allocator });
  const preferred = await prefer.decide(request("x"));
  assert.ok(preferred.ok);
  assert.deepEqual(hosts(preferred.decision.candidates), ["gs-1"]);
  assert.equal(calls(), 2, "one allocation per decision");
});

Deno.test("discovery allocate: a failed allocation is a discovery error naming the provider", async () => {
  const failing = allocating(() => Promise.reject(new Error("allocation failed: 403")));
  const router = compileRouter(single(discovering("union")), { allocator: failing.allocator });
  const result = await router.decide(request("x"));
  assert.ok(!result.ok);
  assert.equal(result.error.code, "discovery");
  assert.equal(result.error.route, "routes[0]");
  // The allocator's error names its provider; routing adds the route only.
  assert.equal(result.error.message, "routes[0]: allocation failed: 403");
  const throwing = allocating(() => {
    throw new Error("sync throw");
  });
  const second = compileRouter(single(discovering("union")), { allocator: throwing.allocator });
  const thrown = await second.decide(request("x"));
  assert.ok(!thrown.ok);
  assert.equal(thrown.error.code, "discovery");
});

Deno.test("discovery allocate: a pool on a snapshot provider neither allocates nor waits", () => {
  const { allocator, calls } = allocating(() => Promise.resolve(backend("never")));
  const { discovered } = fake({ k8s: FOUND });
  const config = single(pool({ discovery: { provider: "k8s", mode: "union" } }));
  const router = compileRouter(config, { allocator, discovered });
  assert.equal(decideOk(router, "x").backend.host, "d1");
  assert.equal(calls(), 0);
});
