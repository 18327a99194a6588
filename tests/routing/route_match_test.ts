import assert from "node:assert/strict";
import { compileHostPattern, type HostMatcher, type PoolConfig } from "../../src/config/mod.ts";
import { compileRouter } from "../../src/routing/mod.ts";
import { backend, decideErr, decideOk, pool, routing } from "./fixtures.ts";

/** A pool whose only backend names the route, so a decision shows which route matched. */
function named(name: string): PoolConfig {
  return pool({ backends: [backend(name)] });
}

Deno.test("match: first matching route in config order wins, exact or pattern", () => {
  const router = compileRouter(routing([
    [["*.eu.example.com"], named("r0")],
    [["play.eu.example.com"], named("r1")], // shadowed by r0
    [["play.example.com"], named("r2")],
    [["*.example.com", "example.net"], named("r3")],
    [["play.example.com"], named("r4")], // shadowed by r2
    [["lobby.example.com"], named("r5")], // shadowed by r3's pattern
  ]));
  const cases: [string, string, number][] = [
    ["play.eu.example.com", "r0", 0],
    ["play.example.com", "r2", 2],
    ["x.example.com", "r3", 3],
    ["example.net", "r3", 3],
    ["lobby.example.com", "r3", 3],
  ];
  for (const [sni, host, index] of cases) {
    const d = decideOk(router, sni);
    assert.equal(d.backend.host, host, sni);
    assert.equal(d.routeIndex, index, sni);
    assert.equal(d.route, `routes[${index}]`, sni);
  }
});

Deno.test("match: the decision names the pattern that matched, exact or glob", () => {
  const router = compileRouter(routing([
    [["*.eu.example.com", "play.example.com"], named("r0")],
    [["*.example.com"], named("r1")],
  ], named("fallback")));
  const matched = (sni: string) => {
    const m = decideOk(router, sni).matched;
    return m && { hostname: m.hostname, glob: m.glob };
  };
  assert.deepEqual(matched("PLAY.example.com"), { hostname: "play.example.com", glob: false });
  assert.deepEqual(matched("a.eu.example.com"), { hostname: "*.eu.example.com", glob: true });
  assert.deepEqual(matched("a.example.com"), { hostname: "*.example.com", glob: true });
  assert.equal(matched("other.net"), null, "the default pool matched no pattern");
});

Deno.test("match: the same exact name in two routes goes to the first", () => {
  const router = compileRouter(routing([
    [["a.example.com", "b.example.com"], named("first")],
    [["b.example.com"], named("second")],
  ]));
  assert.equal(decideOk(router, "b.example.com").backend.host, "first");
});

Deno.test("match: SNI is lower-cased, trimmed and loses one trailing dot", () => {
  const router = compileRouter(routing([
    [["play.example.com"], named("exact")],
    [["*.example.net"], named("wild")],
  ]));
  assert.equal(decideOk(router, "PLAY.Example.COM").backend.host, "exact");
  assert.equal(decideOk(router, "play.example.com.").backend.host, "exact");
  assert.equal(decideOk(router, " Play.Example.Com. ").backend.host, "exact");
  assert.equal(decideOk(router, "A.EXAMPLE.NET.").backend.host, "wild");
  // Only one dot is removed, as in the Go router.
  assert.equal(decideErr(router, "play.example.com..").code, "no_route");
});

Deno.test("match: no match falls to the default pool, labelled default", () => {
  const router = compileRouter(routing([[["a.example.com"], named("a")]], named("fallback")));
  const d = decideOk(router, "b.example.com");
  assert.equal(d.backend.host, "fallback");
  assert.equal(d.route, "default");
  assert.equal(d.routeIndex, -1);
});

Deno.test("match: a connection without SNI only reaches the default pool", () => {
  const withDefault = compileRouter(routing([[["*"], named("star")]], named("fallback")));
  assert.equal(decideOk(withDefault, null).backend.host, "fallback");
  assert.equal(decideOk(withDefault, "").backend.host, "fallback");
  assert.equal(decideOk(withDefault, "anything").backend.host, "star");

  const without = compileRouter(routing([[["*"], named("star")]]));
  const err = decideErr(without, null);
  assert.equal(err.code, "no_route");
  assert.equal(err.route, null);
});

Deno.test("match: no route and no default is no_route", () => {
  const router = compileRouter(routing([[["a.example.com"], named("a")]]));
  const err = decideErr(router, "b.example.com");
  assert.equal(err.code, "no_route");
  assert.equal(err.route, null);
  assert.match(err.message, /b\.example\.com/);
});

Deno.test("match: an empty hostname pattern never matches", () => {
  const router = compileRouter(routing([[[""], named("empty")]], named("fallback")));
  assert.equal(decideOk(router, null).backend.host, "fallback");
  assert.equal(decideOk(router, "x").backend.host, "fallback");
});

/** Wraps the real matcher factory so the test sees which route patterns get evaluated. */
function countingMatchers() {
  const evaluated: string[] = [];
  const compilePattern = (pattern: string): HostMatcher => {
    const real = compileHostPattern(pattern);
    return (host) => {
      evaluated.push(pattern);
      return real(host);
    };
  };
  return { evaluated, compilePattern };
}

Deno.test("match: 10,000 routes — an exact hit evaluates only earlier patterns", () => {
  // Even routes are exact names, odd routes are patterns; the pattern right after each exact
  // route would match that route's name too, so evaluating it would change nothing visible
  // except through the counter.
  const routes: [string[], PoolConfig][] = [];
  for (let i = 0; i < 10_000; i += 2) {
    routes.push([[`s${i}.example.com`], named(`exact-${i}`)]);
    routes.push([[`s${i}.*.com`], named(`pattern-${i + 1}`)]);
  }
  const { evaluated, compilePattern } = countingMatchers();
  let compiled = 0;
  const router = compileRouter(routing(routes), {
    compilePattern: (p) => (compiled++, compilePattern(p)),
  });
  assert.equal(compiled, 5_000, "exact names are not compiled into matchers");

  const early = decideOk(router, "s10.example.com");
  assert.equal(early.backend.host, "exact-10");
  assert.deepEqual(evaluated, ["s0.*.com", "s2.*.com", "s4.*.com", "s6.*.com", "s8.*.com"]);

  evaluated.length = 0;
  const first = decideOk(router, "s0.example.com");
  assert.equal(first.backend.host, "exact-0");
  assert.deepEqual(evaluated, [], "nothing precedes route 0");

  evaluated.length = 0;
  const late = decideOk(router, "s9998.example.com");
  assert.equal(late.routeIndex, 9998);
  assert.equal(evaluated.length, 4999, "only the patterns of routes 1…9997");
  assert.equal(evaluated.at(-1), "s9996.*.com");
});

Deno.test("match: a pattern placed before the exact hit still wins", () => {
  const { evaluated, compilePattern } = countingMatchers();
  const router = compileRouter(
    routing([
      [["other.example.com"], named("other")],
      [["*.example.com"], named("wild")],
      [["play.example.com"], named("exact")],
      [["play.*"], named("after")],
    ]),
    { compilePattern },
  );
  assert.equal(decideOk(router, "play.example.com").backend.host, "wild");
  assert.deepEqual(evaluated, ["*.example.com"], "the pattern after the hit is never evaluated");
});
