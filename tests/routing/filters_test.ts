import assert from "node:assert/strict";
import type { Backend, FilterConfig } from "../../src/config/mod.ts";
import { compileRouter, type RouteRequest } from "../../src/routing/mod.ts";
import { backend, decideErr, decideOk, hosts, pool, settled, single } from "./fixtures.ts";

const NOW = 1_700_000_000_000; // epoch ms

/** The hosts that pass `filters`, in order (round_robin keeps all candidates visible). */
function passing(
  filters: readonly FilterConfig[],
  backends: readonly Backend[],
  who: Partial<RouteRequest> = {},
): string[] {
  const router = compileRouter(single(pool({ backends, filters })), { now: () => NOW });
  const result = settled(router.decide({ sni: "x", uuid: "", username: "", ...who }));
  if (!result.ok) {
    assert.equal(result.error.code, "no_backends");
    return [];
  }
  return hosts(result.decision.candidates);
}

const m = (host: string, meta: Record<string, string>) => backend(host, { meta });

Deno.test("compare: both sides are keys read as numbers", () => {
  const backends = [
    m("free", { "counter.players.count": "3", "counter.players.capacity": "10" }),
    m("full", { "counter.players.count": "10", "counter.players.capacity": "10" }),
    m("over", { "counter.players.count": "12", "counter.players.capacity": "10" }),
  ];
  const cmp = (op: "lt" | "lte" | "gt" | "gte" | "eq" | "neq") =>
    passing([{
      type: "compare",
      left: "counter:players.count",
      op,
      right: "counter:players.capacity",
    }], backends);
  assert.deepEqual(cmp("lt"), ["free"]);
  assert.deepEqual(cmp("lte"), ["free", "full"]);
  assert.deepEqual(cmp("gt"), ["over"]);
  assert.deepEqual(cmp("gte"), ["full", "over"]);
  assert.deepEqual(cmp("eq"), ["full"]);
  assert.deepEqual(cmp("neq"), ["free", "over"]);
});

Deno.test("compare: a missing or non-numeric side fails the backend", () => {
  const backends = [
    m("no-left", { cap: "10" }),
    m("no-right", { n: "1" }),
    m("text", { n: "one", cap: "10" }),
    m("ok", { n: "1", cap: "10" }),
  ];
  assert.deepEqual(passing([{ type: "compare", left: "n", op: "lt", right: "cap" }], backends), [
    "ok",
  ]);
  // The right side is a key too: a literal number names a (missing) metadata key.
  assert.deepEqual(passing([{ type: "compare", left: "n", op: "lt", right: "10" }], backends), []);
});

Deno.test("compare: port and weight are the backend's own fields", () => {
  const backends = [
    backend("a", { port: 1000, weight: 5 }),
    backend("b", { port: 10, weight: 50 }),
  ];
  assert.deepEqual(
    passing([{ type: "compare", left: "port", op: "gt", right: "weight" }], backends),
    ["a"],
  );
});

const WL: FilterConfig = {
  type: "whitelist",
  enabledKey: "annotation.agones.dev/sdk-whitelist-enabled",
  listKey: "list.whitelistedPlayers.values",
  subject: "uuid",
};
const WL_NAME: FilterConfig = { ...WL, subject: "username" };

function wl(host: string, enabled: string | null, list: string | null): Backend {
  const meta: Record<string, string> = {};
  if (enabled !== null) meta["annotation.agones.dev/sdk-whitelist-enabled"] = enabled;
  if (list !== null) meta["list.whitelistedPlayers.values"] = list;
  return m(host, meta);
}

Deno.test("whitelist: backends without it switched on pass", () => {
  const backends = [wl("off", "false", '["u9"]'), wl("absent", null, null), wl("no", "no", "u9")];
  assert.deepEqual(passing([WL], backends, { uuid: "u1" }), ["off", "absent", "no"]);
});

Deno.test("whitelist: switched on (true/1/yes, any case) admits only listed subjects", () => {
  const backends = [
    wl("json", "true", '["u1","u2"]'),
    wl("csv", " YES ", "u3, u1 ,u4"),
    wl("one", "1", "u2"),
    wl("empty", "True", ""),
    wl("missing", "true", null),
  ];
  assert.deepEqual(passing([WL], backends, { uuid: "u1" }), ["json", "csv"]);
  assert.deepEqual(passing([WL], backends, { uuid: " u2 " }), ["json", "one"], "uuid is trimmed");
  assert.deepEqual(passing([WL], backends, { uuid: "" }), [], "no subject, no entry");
});

Deno.test("whitelist: subject username", () => {
  const backends = [wl("a", "true", '["alice","bob"]'), wl("c", "true", "carol")];
  assert.deepEqual(passing([WL_NAME], backends, { uuid: "alice", username: "alice" }), ["a"]);
  assert.deepEqual(passing([WL_NAME], backends, { uuid: "alice", username: "carol" }), ["c"]);
});

Deno.test("whitelist: a JSON list must be an array of strings", () => {
  const backends = [
    wl("mixed", "true", '["u1", 2]'),
    wl("broken", "true", '["u1"'),
    wl("nulls", "true", '[null, "u1"]'),
    wl("not-trimmed", "true", '[" u1"]'),
  ];
  assert.deepEqual(passing([WL], backends, { uuid: "u1" }), ["nulls"]);
});

Deno.test("whitelist: an empty enabled_key fails every backend", () => {
  const backends = [wl("a", "false", null), backend("b")];
  assert.deepEqual(passing([{ ...WL, enabledKey: " " }], backends), []);
});

const GAME: FilterConfig = { type: "game_start_not_past", key: "annotation.game-start" };
const start = (host: string, value: string | null) =>
  m(host, value === null ? {} : { "annotation.game-start": value });

Deno.test("game_start_not_past: seconds, milliseconds, -1, absent, unparsable", () => {
  const backends = [
    start("absent", null),
    start("empty", "  "),
    start("never", "-1"),
    start("future-s", String(NOW / 1000 + 60)),
    start("past-s", String(NOW / 1000 - 60)),
    start("now-s", String(NOW / 1000)),
    start("future-ms", String(NOW + 1)),
    start("past-ms", String(NOW - 1)),
    start("zero", "0"),
    start("negative", "-5"),
    start("float", "1800000000.5"),
    start("text", "soon"),
    start("padded", ` ${NOW / 1000 + 60} `),
    start("too-big", "99999999999999999999"),
  ];
  assert.deepEqual(passing([GAME], backends), [
    "absent",
    "empty",
    "never",
    "future-s",
    "future-ms",
    "padded",
  ]);
});

Deno.test("game_start_not_past: 9,999,999,999 is seconds, 10,000,000,000 milliseconds", () => {
  const backends = [start("s", "9999999999"), start("ms", "10000000000")];
  assert.deepEqual(passing([GAME], backends), ["s"]);
});

Deno.test("filters: a backend must pass all of them", () => {
  const backends = [
    m("both", { n: "1", cap: "2", "annotation.game-start": "-1" }),
    m("compare-only", { n: "1", cap: "2", "annotation.game-start": "1" }),
    m("game-only", { n: "3", cap: "2" }),
  ];
  const filters: FilterConfig[] = [{ type: "compare", left: "n", op: "lt", right: "cap" }, GAME];
  assert.deepEqual(passing(filters, backends), ["both"]);
});

Deno.test("filters: nothing left and no fallback is no_backends", () => {
  const router = compileRouter(
    single(pool({ backends: [start("old", "1")], filters: [GAME] })),
    { now: () => NOW },
  );
  const err = decideErr(router, "x");
  assert.equal(err.code, "no_backends");
  assert.equal(err.route, "routes[0]");
});

Deno.test("filters: the clock is read from the injected now()", () => {
  let now = NOW;
  const router = compileRouter(
    single(pool({ backends: [start("soon", String(NOW + 1000))], filters: [GAME] })),
    { now: () => now },
  );
  assert.equal(decideOk(router, "x").backend.host, "soon");
  now = NOW + 1000;
  assert.equal(decideErr(router, "x").code, "no_backends");
});
