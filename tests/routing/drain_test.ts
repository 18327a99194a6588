/** Drained backends (the admin API's drain) leave new decisions, static and discovered alike. */
import assert from "node:assert/strict";
import { compileRouter } from "../../src/routing/mod.ts";
import { backend, decideErr, decideOk, hosts, pool, single } from "./fixtures.ts";

const STATIC = [backend("a", { port: 1 }), backend("b", { port: 2 }), backend("c", { port: 3 })];

Deno.test("drain: a drained host:port is never picked; the set is read per decision", () => {
  const drained = new Set<string>();
  const router = compileRouter(single(pool({ strategy: "round_robin", backends: STATIC })), {
    drained: () => drained,
  });
  assert.deepEqual(hosts(decideOk(router, "x").candidates), ["a", "b", "c"]);
  drained.add("b:2");
  for (let i = 0; i < 6; i++) {
    const d = decideOk(router, "x");
    assert.deepEqual(hosts(d.candidates), ["a", "c"]);
    assert.notEqual(d.backend.host, "b");
  }
  drained.add("a:9"); // same host, another port: not this backend
  assert.deepEqual(hosts(decideOk(router, "x").candidates), ["a", "c"]);
  drained.clear();
  assert.deepEqual(hosts(decideOk(router, "x").candidates), ["a", "b", "c"]);
});

Deno.test("drain: discovered backends drain too; all drained is no_backends", () => {
  const found = [backend("d1", { port: 5 })];
  const drained = new Set(["d1:5", "a:1", "b:2", "c:3"]);
  const router = compileRouter(
    single(pool({ backends: STATIC, discovery: { provider: "k8s", mode: "union" } })),
    { discovered: () => found, drained: () => drained },
  );
  assert.equal(decideErr(router, "x").code, "no_backends");
  drained.delete("d1:5");
  assert.equal(decideOk(router, "x").backend.host, "d1");
});
