/**
 * Per-backend parses (numbers, whitelists, game starts) happen once per backend object. Observed
 * from outside: each backend's metadata counts how often it is read, and a second decision over
 * the same objects must read none of it, while still deciding the same way.
 */
import assert from "node:assert/strict";
import type { Backend, FilterConfig, PoolConfig } from "../../src/config/mod.ts";
import { compileRouter, type RouterOptions } from "../../src/routing/mod.ts";
import { decideErr, decideOk, hosts, pool, sequence, single } from "./fixtures.ts";

/** Backends whose metadata counts every read, and the running total. */
function counted(entries: Record<string, Record<string, string>>) {
  let reads = 0;
  const backends: Backend[] = Object.entries(entries).map(([host, meta]) => ({
    host,
    port: 5520,
    weight: 0,
    meta: new Proxy(meta, {
      get(target, name, receiver) {
        reads++;
        return Reflect.get(target, name, receiver);
      },
    }),
  }));
  return { backends, reads: () => reads };
}

const LOAD = "counter.players.count";
const CAP = "counter.players.capacity";
const FULLNESS: FilterConfig = {
  type: "compare",
  left: "counter:players.count",
  op: "lt",
  right: "counter:players.capacity",
};

function fleet() {
  return counted({
    full: { [LOAD]: "10", [CAP]: "10" },
    busy: { [LOAD]: "0x1.8p3", [CAP]: "20" }, // 12 as a Go hex float
    quiet: { [LOAD]: "3", [CAP]: "1_0" },
    odd: { [LOAD]: "nan", [CAP]: "10" },
  });
}

/** Decides twice over the same backend objects; returns both picks and the reads of each. */
function twice(p: (backends: Backend[]) => PoolConfig, options: RouterOptions = {}) {
  const { backends, reads } = fleet();
  const router = compileRouter(single(p(backends)), options);
  const first = decideOk(router, "x");
  const afterFirst = reads();
  const second = decideOk(router, "x");
  return { first, second, firstReads: afterFirst, secondReads: reads() - afterFirst };
}

Deno.test("parse cache: compare filter + least_loaded read metadata on the first decision only", () => {
  const run = twice((backends) =>
    pool({ strategy: "least_loaded", key: "counter:players.count", filters: [FULLNESS], backends })
  );
  assert.deepEqual(hosts(run.first.candidates), ["busy", "quiet"], "full and NaN filtered out");
  assert.equal(run.first.backend.host, "quiet");
  assert.ok(run.firstReads > 0);
  assert.equal(run.secondReads, 0);
  assert.deepEqual(hosts(run.second.candidates), ["busy", "quiet"]);
  assert.equal(run.second.backend.host, "quiet");
});

Deno.test("parse cache: p2c reads metadata on the first decision only", () => {
  // Draws index 0 then 2 of the remaining [1, 2, 3] → full (10) and odd (NaN): full wins.
  const random = sequence(0, 0.7, 0, 0.7);
  const run = twice(
    (backends) => pool({ strategy: "p2c", key: "counter:players.count", backends }),
    { random },
  );
  assert.equal(run.first.backend.host, "full");
  assert.ok(run.firstReads > 0);
  assert.equal(run.secondReads, 0);
  assert.equal(run.second.backend.host, "full");
});

Deno.test("parse cache: a numeric sort reads metadata on the first decision only", () => {
  const run = twice((backends) =>
    pool({ sort: [{ key: "counter:players.count", order: "desc", type: "number" }], backends })
  );
  assert.deepEqual(hosts(run.first.candidates), ["busy", "full", "quiet", "odd"]);
  assert.ok(run.firstReads > 0);
  assert.equal(run.secondReads, 0);
  assert.deepEqual(hosts(run.second.candidates), ["busy", "full", "quiet", "odd"]);
});

Deno.test("parse cache: a whitelist is read once per backend, matched per client", () => {
  const { backends, reads } = counted({
    open: {},
    comma: { on: " Yes ", list: " alice , bob" },
    json: { on: "1", list: '["carol", null]' },
  });
  const filters: FilterConfig[] = [{
    type: "whitelist",
    enabledKey: "on",
    listKey: "list",
    subject: "username",
  }];
  const router = compileRouter(single(pool({ filters, backends })));
  const admits = (username: string) => hosts(decideOk(router, "x", { username }).candidates);
  assert.deepEqual(admits("bob"), ["open", "comma"]);
  const afterFirst = reads();
  assert.ok(afterFirst > 0);
  assert.deepEqual(admits("carol"), ["open", "json"]);
  assert.deepEqual(admits(""), ["open"]);
  assert.equal(reads(), afterFirst);
});

Deno.test("parse cache: game_start_not_past keeps the start, not the verdict", () => {
  const { backends, reads } = counted({ soon: { start: "1700000060" } }); // seconds
  let now = 1_700_000_000_000;
  const filters: FilterConfig[] = [{ type: "game_start_not_past", key: "start" }];
  const router = compileRouter(single(pool({ filters, backends })), { now: () => now });
  assert.equal(decideOk(router, "x").backend.host, "soon");
  const afterFirst = reads();
  now += 60_000; // the game has started
  assert.equal(decideErr(router, "x").code, "no_backends");
  assert.equal(reads(), afterFirst);
});

Deno.test("parse cache: new backend objects (a new snapshot) are read afresh", () => {
  let snapshot = counted({ a: { [LOAD]: "1" }, b: { [LOAD]: "5" } });
  const router = compileRouter(
    single(pool({
      strategy: "least_loaded",
      key: "counter:players.count",
      discovery: { provider: "agones", mode: "prefer" },
    })),
    { discovered: () => snapshot.backends },
  );
  assert.equal(decideOk(router, "x").backend.host, "a");
  // Same host:port, new values: the cache follows the object, not the address.
  snapshot = counted({ a: { [LOAD]: "9" }, b: { [LOAD]: "5" } });
  assert.equal(decideOk(router, "x").backend.host, "b");
  assert.ok(snapshot.reads() > 0);
});

Deno.test("parse cache: a weighted discovery pool reuses its weight-1 copies", () => {
  const { backends, reads } = fleet();
  const router = compileRouter(
    single(pool({
      strategy: "weighted",
      filters: [FULLNESS],
      discovery: { provider: "agones", mode: "prefer" },
    })),
    { discovered: () => backends, random: () => 0 },
  );
  const first = decideOk(router, "x");
  const afterFirst = reads();
  const second = decideOk(router, "x");
  assert.deepEqual(first.candidates.map((b) => b.weight), [1, 1]);
  assert.equal(second.backend, first.backend, "the same copy, so the same cache entries");
  assert.equal(reads(), afterFirst);
});
