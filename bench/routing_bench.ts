/**
 * Cost of one routing decision, run with `deno bench bench/routing_bench.ts`: a 50-backend
 * `least_loaded` pool behind a `compare` filter (players below capacity), the shape of an
 * Agones fleet routed by player count.
 *
 * `static` decides over the same backend objects every time, as a static pool (or a discovery
 * snapshot between updates) does: per-backend parses are cached. `fresh snapshot` hands out new
 * backend objects on every decision, the worst case for that cache (every read is a miss).
 *
 * @module
 */

import type { Backend, PoolConfig, RoutingConfig } from "../src/config/mod.ts";
import { compileRouter, type DecideResult, type RouteRequest } from "../src/routing/mod.ts";

const BACKENDS = 50;

function fleet(): Backend[] {
  return Array.from({ length: BACKENDS }, (_, i) => ({
    host: `10.0.${i >> 8}.${i & 255}`,
    port: 7777,
    weight: 0,
    meta: {
      "counter.players.count": String((i * 37) % 101),
      "counter.players.capacity": "100",
      "label.region": i % 2 === 0 ? "eu" : "us",
    },
  }));
}

function leastLoadedPool(backends: readonly Backend[], discovery: boolean): PoolConfig {
  return {
    strategy: "least_loaded",
    key: "counter:players.count",
    sample: 0,
    sort: [],
    limit: 0,
    filters: [{
      type: "compare",
      left: "counter:players.count",
      op: "lt",
      right: "counter:players.capacity",
    }],
    fallback: [],
    backends: discovery ? [] : backends,
    discovery: discovery ? { provider: "fleet", mode: "prefer" } : null,
  };
}

function single(pool: PoolConfig): RoutingConfig {
  return { default: null, routes: [{ hostnames: ["play.example.com"], pool }] };
}

const REQUEST: RouteRequest = { sni: "play.example.com", uuid: "", username: "" };

const staticRouter = compileRouter(single(leastLoadedPool(fleet(), false)));
const freshRouter = compileRouter(single(leastLoadedPool([], true)), {
  discovered: () => fleet(),
});

Deno.bench("decide: 50 backends, least_loaded + compare, static", { group: "decide" }, () => {
  assertDecided(staticRouter.decide(REQUEST));
});

Deno.bench("decide: 50 backends, least_loaded + compare, fresh snapshot", {
  group: "decide",
}, () => {
  assertDecided(freshRouter.decide(REQUEST));
});

function assertDecided(result: DecideResult | Promise<DecideResult>): void {
  if (result instanceof Promise || !result.ok) throw new Error("no immediate decision");
}
