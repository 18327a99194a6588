import assert from "node:assert/strict";
import type { Backend } from "../../src/config/mod.ts";
import { compileRouter } from "../../src/routing/mod.ts";
import { backend, decideOk, pool, single } from "./fixtures.ts";

/** Which backend least_loaded picks with `key`: shows how the key was read. */
function lowest(key: string, backends: readonly Backend[]): string {
  const router = compileRouter(single(pool({ strategy: "least_loaded", key, backends })));
  return decideOk(router, "x").backend.host;
}

const meta = (host: string, m: Record<string, string>) => backend(host, { meta: m });

Deno.test("keys: label:, annotation:, counter: read their meta namespace", () => {
  const list = [
    meta("a", { "label.tier": "1", "annotation.tier": "9", "counter.tier": "9", tier: "9" }),
    meta("b", { "label.tier": "9", "annotation.tier": "1", "counter.tier": "9", tier: "9" }),
    meta("c", { "label.tier": "9", "annotation.tier": "9", "counter.tier": "1", tier: "9" }),
    meta("d", { "label.tier": "9", "annotation.tier": "9", "counter.tier": "9", tier: "1" }),
  ];
  assert.equal(lowest("label:tier", list), "a");
  assert.equal(lowest("annotation:tier", list), "b");
  assert.equal(lowest("counter:tier", list), "c");
  assert.equal(lowest("tier", list), "d", "any other key is the exact meta name");
  assert.equal(lowest("counter.tier", list), "c", "dotted names are exact names too");
});

Deno.test("keys: spaces around the key and after the prefix are ignored", () => {
  const list = [meta("a", { "counter.n": "5" }), meta("b", { "counter.n": "2" })];
  assert.equal(lowest(" counter: n ", list), "b");
});

Deno.test("keys: host, port, weight are the backend's fields, not meta", () => {
  const list = [
    backend("a", { port: 30, weight: 1, meta: { port: "1", weight: "100" } }),
    backend("b", { port: 20, weight: 5, meta: { port: "100", weight: "1" } }),
  ];
  assert.equal(lowest("port", list), "b");
  assert.equal(lowest("weight", list), "a");
  assert.equal(lowest("host", [backend("12"), backend("3")]), "3", "a host read as a number");
});

Deno.test("keys: values are Go floats — underscores, exponents, hex floats, inf", () => {
  const v = (host: string, n: string) => meta(host, { n });
  assert.equal(lowest("n", [v("a", "1e3"), v("b", "999")]), "b");
  assert.equal(lowest("n", [v("a", "1_000"), v("b", "999")]), "b");
  assert.equal(lowest("n", [v("a", "0x1p4"), v("b", "17")]), "a", "0x1p4 = 16");
  assert.equal(lowest("n", [v("a", "-Inf"), v("b", "-1e300")]), "a");
  // Not Go floats, so missing: JS Number() would read every one of these.
  for (const bad of ["0x10", " 5", "5 ", "Infinity_", "1e400", "1__0", "", "0b1"]) {
    assert.equal(lowest("n", [v("a", bad), v("b", "1000")]), "b", JSON.stringify(bad));
  }
});

Deno.test("keys: an inherited object member is not a value", () => {
  // Sorting as text: an inherited `constructor` would read as "function Object() …" < "z".
  const list = [meta("plain", {}), meta("own", { constructor: "z" })];
  const router = compileRouter(single(pool({
    backends: list,
    sort: [{ key: "constructor", order: "asc", type: "string" }],
  })));
  assert.deepEqual(decideOk(router, "x").candidates.map((b) => b.host), ["own", "plain"]);
});
