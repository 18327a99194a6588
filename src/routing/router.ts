import {
  type Backend,
  canonicalHost,
  compileHostPattern,
  goTrimSpace,
  type PoolConfig,
  type RoutingConfig,
  type StrategyName,
} from "../config/mod.ts";
import { type CandidateSource, compileCandidateSource, type Resolved } from "./candidates.ts";
import type { ClientFacts } from "./filters.ts";
import { type Attempt, compileAttempts, type Picked, runAttempts, traceAttempts } from "./pool.ts";
import { compileRouteTable } from "./route_table.ts";
import { RoutingError } from "./routing_error.ts";
import type { PickContext } from "./strategies/strategy.ts";
import type {
  DecideResult,
  Decision,
  ResolvedCandidate,
  RouteExplanation,
  Router,
  RouteRequest,
  RouterOptions,
  RouteTrace,
} from "./types.ts";

/** A route (or the default pool) ready to decide: everything parsed, its own counter. */
interface CompiledRoute {
  readonly label: string;
  readonly index: number;
  readonly poolStrategy: StrategyName;
  readonly candidates: CandidateSource;
  readonly attempts: readonly Attempt[];
  readonly ctx: PickContext;
  /** `ctx` for explain: round robin reads the counter without advancing it. */
  readonly peek: PickContext;
  /** The pool's static backends (what explain shows of a pool that allocates). */
  readonly statics: readonly Backend[];
}

/**
 * Compiles the `routing` section once: hostname lookup, candidate sources, filters, sort keys
 * and strategies. `decide` then only looks things up; it never throws.
 */
export function compileRouter(config: RoutingConfig, options: RouterOptions = {}): Router {
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const drained = options.drained ?? null;
  const compileRoute = (label: string, index: number, pool: PoolConfig): CompiledRoute => {
    let turn = 0;
    return {
      label,
      index,
      poolStrategy: pool.strategy,
      candidates: compileCandidateSource(pool, label, options),
      attempts: compileAttempts(pool),
      ctx: { random, nextTurn: () => turn++ },
      peek: { random, nextTurn: () => turn },
      statics: pool.backends,
    };
  };
  const table = compileRouteTable(
    config.routes.map((r) => r.hostnames),
    options.compilePattern ?? compileHostPattern,
  );
  const routes = config.routes.map((r, i) => compileRoute(`routes[${i}]`, i, r.pool));
  const fallback = config.default === null ? null : compileRoute("default", -1, config.default);
  // Explain's lookup: the pattern alone (the table's entry also carries its matcher).
  const lookup = (req: RouteRequest) => {
    const match = table.lookup(canonicalHost(req.sni));
    const matched = match ? { hostname: match.hostname, glob: match.glob } : null;
    return { route: match ? routes[match.route] ?? null : fallback, matched };
  };

  return {
    decide(req) {
      let route: CompiledRoute | null = null;
      try {
        const host = canonicalHost(req.sni);
        const match = table.lookup(host);
        route = match ? routes[match.route] ?? null : fallback;
        if (route === null) {
          const what = req.sni === null ? "a connection without SNI" : `SNI "${host}"`;
          return failed("no_route", `no route matches ${what} and there is no default pool`, null);
        }
        const chosen = route;
        const resolved = chosen.candidates();
        const undrained = (r: Resolved) => drained === null ? r : withoutDrained(r, drained());
        // The table's own entry: nothing is allocated per connection.
        if (!(resolved instanceof Promise)) {
          return decideOnRoute(chosen, match, req, now, undrained(resolved));
        }
        return resolved.then((r) => decideOnRoute(chosen, match, req, now, undrained(r)))
          .catch((err) => unexpected(chosen, err));
      } catch (err) {
        return unexpected(route, err);
      }
    },
    async explain(req) {
      let found: ReturnType<typeof lookup> | null = null;
      try {
        found = lookup(req);
        return await explainRoute(found.route, found.matched, req, now, drained?.() ?? null);
      } catch (err) {
        return { result: unexpected(found?.route ?? null, err), trace: NO_TRACE };
      }
    },
  };
}

const NO_TRACE: RouteTrace = {
  route: null,
  matched: null,
  resolved: [],
  allocation: null,
  attempts: [],
};

/**
 * `decide` with every step kept. Differs from it on purpose in two ways: round robin peeks at
 * its counter (`peek`), and a pool that allocates per connection is not asked to allocate.
 */
async function explainRoute(
  route: CompiledRoute | null,
  matched: Decision["matched"],
  req: RouteRequest,
  now: () => number,
  drained: ReadonlySet<string> | null,
): Promise<RouteExplanation> {
  if (route === null) {
    const what = req.sni === null ? "a connection without SNI" : `SNI "${canonicalHost(req.sni)}"`;
    const result = failed(
      "no_route",
      `no route matches ${what} and there is no default pool`,
      null,
    );
    return { result, trace: NO_TRACE };
  }
  const base = { route: route.label, matched, allocation: null, attempts: [] };
  const provider = route.candidates.allocates;
  if (provider !== undefined) {
    const resolved = marked(route.statics, drained);
    const why = `${route.label}: provider "${provider}" allocates a game server per connection; ` +
      "explain does not allocate one";
    return {
      result: failed("discovery", why, route.label),
      trace: { ...base, resolved, allocation: provider },
    };
  }
  const all = await route.candidates();
  if (all instanceof RoutingError) {
    return { result: { ok: false, error: all }, trace: { ...base, resolved: [] } };
  }
  const resolved = marked(all, drained);
  const usable = resolved.filter((c) => !c.drained).map((c) => c.backend);
  if (usable.length === 0) {
    return {
      result: failed("no_backends", `${route.label}: no backends`, route.label),
      trace: { ...base, resolved },
    };
  }
  const { picked, trace } = traceAttempts(route.attempts, usable, clientOf(req, now), route.peek);
  return {
    result: resultOf(route, matched, picked),
    trace: { ...base, resolved, attempts: trace },
  };
}

function marked(
  backends: readonly Backend[],
  drained: ReadonlySet<string> | null,
): ResolvedCandidate[] {
  return backends.map((backend) => ({
    backend,
    drained: drained?.has(backendKey(backend)) ?? false,
  }));
}

function clientOf(req: RouteRequest, now: () => number): () => ClientFacts {
  return () => ({
    uuid: goTrimSpace(req.uuid),
    username: goTrimSpace(req.username),
    nowMs: now(),
  });
}

/** `host:port` of a backend, the key drains and decision records use. */
export function backendKey(backend: Backend): string {
  return `${backend.host}:${backend.port}`;
}

// Drained backends leave the candidates before filters, so a pool whose backends are all
// drained answers no_backends like an empty pool. The list is copied only while drains exist.
function withoutDrained(resolved: Resolved, drained: ReadonlySet<string>): Resolved {
  if (drained.size === 0 || resolved instanceof RoutingError) return resolved;
  return resolved.filter((b) => !drained.has(backendKey(b)));
}

/**
 * Only an injected function (random, now) or a bug throws while deciding; the connection
 * still gets an answer.
 */
function unexpected(route: CompiledRoute | null, err: unknown): DecideResult {
  const label = route?.label ?? null;
  const why = err instanceof Error ? err.message : String(err);
  return failed("routing", `${label ?? "routing"}: ${why}`, label, err);
}

function decideOnRoute(
  route: CompiledRoute,
  matched: Decision["matched"],
  req: RouteRequest,
  now: () => number,
  resolved: Resolved,
): DecideResult {
  if (resolved instanceof RoutingError) return { ok: false, error: resolved };
  if (resolved.length === 0) {
    return failed("no_backends", `${route.label}: no backends`, route.label);
  }
  const picked = runAttempts(route.attempts, resolved, clientOf(req, now), route.ctx);
  return resultOf(route, matched, picked);
}

/** The decision (or failure) for what the attempts picked. */
function resultOf(
  route: CompiledRoute,
  matched: Decision["matched"],
  picked: Picked | null,
): DecideResult {
  const noBackends = `${route.label}: no backends`;
  if (picked === null) {
    return failed("no_backends", `${noBackends} left after filters and fallbacks`, route.label);
  }
  const { attempt, candidates, index } = picked;
  if (typeof attempt.strategy === "string") {
    return failed("routing", `${route.label}: ${attempt.strategy}`, route.label);
  }
  const backend = candidates[index];
  if (backend === undefined) {
    return failed("routing", `${route.label}: strategy picked index ${index}`, route.label);
  }
  return {
    ok: true,
    decision: {
      route: route.label,
      routeIndex: route.index,
      matched,
      strategy: attempt.strategyName,
      poolStrategy: route.poolStrategy,
      candidates,
      selectedIndex: index,
      backend,
    },
  };
}

function failed(
  code: RoutingError["code"],
  message: string,
  route: string | null,
  cause?: unknown,
): DecideResult {
  const options = cause === undefined ? undefined : { cause };
  return { ok: false, error: new RoutingError(code, message, route, options) };
}
