import assert from "node:assert/strict";
import type { Backend, PoolConfig, SortKeyConfig } from "../../src/config/mod.ts";
import { compileRouter } from "../../src/routing/mod.ts";
import { backend, decideOk, hosts, pool, single } from "./fixtures.ts";

function order(backends: readonly Backend[], fields: Partial<PoolConfig>): string[] {
  const router = compileRouter(single(pool({ backends, ...fields })));
  return hosts(decideOk(router, "x").candidates);
}

const key = (k: string, o: "asc" | "desc" = "asc", t: "string" | "number" = "string") =>
  ({ key: k, order: o, type: t }) satisfies SortKeyConfig;
const players = (host: string, count: string | null, region?: string) => {
  const meta: Record<string, string> = {};
  if (count !== null) meta["counter.players.count"] = count;
  if (region !== undefined) meta["label.region"] = region;
  return backend(host, { meta });
};

Deno.test("sort: numbers ascending and descending; missing after present either way", () => {
  const list = [players("a", "10"), players("b", null), players("c", "9"), players("d", "100")];
  const n = (o: "asc" | "desc") =>
    order(list, { sort: [key("counter:players.count", o, "number")] });
  assert.deepEqual(n("asc"), ["c", "a", "d", "b"]);
  assert.deepEqual(n("desc"), ["d", "a", "c", "b"]);
});

Deno.test("sort: type string compares text, so 10 < 9", () => {
  const list = [players("a", "10"), players("b", "9"), players("c", "100")];
  assert.deepEqual(order(list, { sort: [key("counter:players.count")] }), ["a", "c", "b"]);
});

Deno.test("sort: strings in code point order (Go's byte order), not UTF-16 order", () => {
  // U+FF61 is one UTF-16 unit above the surrogates that encode U+1F600; by code point it is below.
  const list = [players("emoji", null, "\u{1F600}"), players("halfwidth", null, "\uFF61")];
  assert.deepEqual(order(list, { sort: [key("label:region")] }), ["halfwidth", "emoji"]);
});

Deno.test("sort: non-numeric values count as missing for type number", () => {
  const list = [players("text", "many"), players("num", "5"), players("spaced", " 1")];
  assert.deepEqual(
    order(list, { sort: [key("counter:players.count", "asc", "number")] }),
    ["num", "text", "spaced"],
  );
});

Deno.test("sort: several keys; ties keep config order (stable)", () => {
  const list = [
    players("eu-2", "5", "eu"),
    players("us-1", "1", "us"),
    players("eu-1", "1", "eu"),
    players("eu-3", "5", "eu"),
    players("none", "0"),
  ];
  const sort = [key("label:region"), key("counter:players.count", "asc", "number")];
  assert.deepEqual(order(list, { sort }), ["eu-1", "eu-2", "eu-3", "us-1", "none"]);
});

// Expected orders from Go 1.19's sort.SliceStable with the router's `less` (a Go program sorting
// the same values; NaN is less than nothing and nothing is less than NaN).
Deno.test("sort: a NaN value leaves the order Go's sort.SliceStable leaves, not any stable sort's", () => {
  const byCount = [key("counter:players.count", "asc", "number")];
  // Go's strconv.ParseFloat reads "NaN" as NaN.
  const named = (values: readonly number[]) => values.map((v, i) => players(`b${i}`, String(v)));
  // Go's insertion sort stops at the NaN; a binary insertion (V8's sort) jumps it: 0 first.
  assert.deepEqual(order(named([5, 4, NaN, 0]), { sort: byCount }), ["b1", "b0", "b2", "b3"]);
  // Past 20 elements: insertion-sorted blocks of 20, then SymMerge.
  const long = "3 1 NaN 4 1 5 NaN 2 0 3 5 NaN 1 4 2 0 NaN 3 5 1 2 NaN 4 0 2".split(" ").map(Number);
  const goOrder = "1 0 2 4 20 3 5 6 8 21 23 7 9 10 11 15 12 14 13 16 19 24 17 22 18".split(" ");
  assert.deepEqual(order(named(long), { sort: byCount }), goOrder.map((i) => `b${i}`));
});

Deno.test("sort: host, port and weight keys", () => {
  const list = [
    backend("b", { port: 9, weight: 2 }),
    backend("a", { port: 10, weight: 1 }),
    backend("c", { port: 100, weight: 3 }),
  ];
  assert.deepEqual(order(list, { sort: [key("host")] }), ["a", "b", "c"]);
  assert.deepEqual(order(list, { sort: [key("port", "asc", "number")] }), ["b", "a", "c"]);
  assert.deepEqual(order(list, { sort: [key("port")] }), ["a", "c", "b"], "as text");
  assert.deepEqual(order(list, { sort: [key("weight", "desc", "number")] }), ["c", "b", "a"]);
});

Deno.test("sort: the configured backends are not reordered in place", () => {
  const list = [players("a", "2"), players("b", "1")];
  const p = pool({ backends: list, sort: [key("counter:players.count", "asc", "number")] });
  const router = compileRouter(single(p));
  assert.deepEqual(hosts(decideOk(router, "x").candidates), ["b", "a"]);
  assert.deepEqual(hosts(p.backends), ["a", "b"]);
});

Deno.test("limit: keeps the first N after sorting; 0 keeps all", () => {
  const list = [players("a", "3"), players("b", "1"), players("c", "2"), players("d", "0")];
  const sort = [key("counter:players.count", "asc", "number")];
  assert.deepEqual(order(list, { sort, limit: 2 }), ["d", "b"]);
  assert.deepEqual(order(list, { sort, limit: 0 }), ["d", "b", "c", "a"]);
  assert.deepEqual(order(list, { limit: 10 }), ["a", "b", "c", "d"]);
});

Deno.test("limit: the strategy picks among the limited candidates", () => {
  const list = [players("a", "3"), players("b", "1"), players("c", "2")];
  const router = compileRouter(single(pool({
    backends: list,
    sort: [key("counter:players.count", "desc", "number")],
    limit: 2,
    strategy: "least_loaded",
    key: "counter:players.count",
  })));
  const d = decideOk(router, "x");
  assert.deepEqual(hosts(d.candidates), ["a", "c"]);
  assert.equal(d.selectedIndex, 1);
  assert.equal(d.backend.host, "c");
});
