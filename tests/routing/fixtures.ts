/** Hand-built routing configs and controllable randomness for the routing tests. */
import assert from "node:assert/strict";
import type { Backend, FilterConfig, PoolConfig, RoutingConfig } from "../../src/config/mod.ts";
import type {
  DecideResult,
  Decision,
  Router,
  RouteRequest,
  RoutingError,
} from "../../src/routing/mod.ts";

/** A backend; `meta` null unless given. */
export function backend(
  host: string,
  opts: { port?: number; weight?: number; meta?: Record<string, string> } = {},
): Backend {
  return { host, port: opts.port ?? 5520, weight: opts.weight ?? 0, meta: opts.meta ?? null };
}

/** A backend carrying an Agones-style player counter (`count` of `cap`, default 10). */
export function loaded(host: string, count: string, cap = "10"): Backend {
  return backend(host, {
    meta: { "counter.players.count": count, "counter.players.capacity": cap },
  });
}

/** The filter that keeps backends whose player count is under their capacity. */
export const NOT_FULL: FilterConfig = {
  type: "compare",
  left: "counter:players.count",
  op: "lt",
  right: "counter:players.capacity",
};

/** A pool with the loader's defaults, overridden by `fields`. */
export function pool(fields: Partial<PoolConfig> = {}): PoolConfig {
  return {
    strategy: "round_robin",
    key: "",
    sample: 0,
    sort: [],
    limit: 0,
    filters: [],
    fallback: [],
    backends: [],
    discovery: null,
    ...fields,
  };
}

/** `routing` with routes given as `[hostnames, pool]` pairs. */
export function routing(
  routes: readonly (readonly [readonly string[], PoolConfig])[],
  defaultPool: PoolConfig | null = null,
): RoutingConfig {
  return {
    default: defaultPool,
    routes: routes.map(([hostnames, p]) => ({ hostnames, pool: p })),
  };
}

/** A single-route config matching host `x`. */
export function single(p: PoolConfig): RoutingConfig {
  return routing([[["x"], p]]);
}

/** mulberry32: a small seeded generator, uniform in [0, 1) (shared with the fuzz tests). */
export { prng as seeded } from "../support/mutate.ts";

/** Returns `values` in order and fails the test if asked for more. */
export function sequence(...values: number[]): () => number {
  let i = 0;
  return () => {
    const v = values[i++];
    assert.ok(v !== undefined, `random() called more than ${values.length} times`);
    return v;
  };
}

/** A request for `sni` with an empty identity unless given. */
export function request(sni: string | null, who: Partial<RouteRequest> = {}): RouteRequest {
  return { sni, uuid: "", username: "", ...who };
}

/** Decides and asserts success. */
export function decideOk(
  router: Router,
  sni: string | null,
  who?: Partial<RouteRequest>,
): Decision {
  const result = settled(router.decide(request(sni, who)));
  if (!result.ok) {
    assert.fail(`expected a decision, got ${result.error.code}: ${result.error.message}`);
  }
  return result.decision;
}

/** Decides and asserts failure. */
export function decideErr(
  router: Router,
  sni: string | null,
  who?: Partial<RouteRequest>,
): RoutingError {
  const result = settled(router.decide(request(sni, who)));
  if (result.ok) assert.fail(`expected an error, got ${result.decision.backend.host}`);
  return result.error;
}

/** Hosts of a candidate list, for compact assertions. */
export function hosts(backends: readonly Backend[]): string[] {
  return backends.map((b) => b.host);
}

/** A decision that must be immediate (every pool here reads snapshots or static backends). */
export function settled(result: DecideResult | Promise<DecideResult>): DecideResult {
  if (result instanceof Promise) assert.fail("expected an immediate decision, got a promise");
  return result;
}
