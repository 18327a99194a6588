import type { Backend, HostMatcher, StrategyName } from "../config/mod.ts";
import type { RoutingError } from "./routing_error.ts";

/** What a decision is made from. */
export interface RouteRequest {
  /** TLS server name; `null` when the client dialled an IP (routes as `""`: default pool only). */
  readonly sni: string | null;
  /** The Connect's uuid (whitelist filters). */
  readonly uuid: string;
  /** The Connect's username (whitelist filters). */
  readonly username: string;
}

/** A successful decision. */
export interface Decision {
  /** `routes[3]` or `default`; a log and metrics label. */
  readonly route: string;
  /** Index into `routing.routes`; -1 for the default pool. */
  readonly routeIndex: number;
  /**
   * The `match.hostname` pattern that matched the SNI and whether it is a glob (what process
   * plugins receive as `md`/`mg`); `null` for the default pool.
   */
  readonly matched: { readonly hostname: string; readonly glob: boolean } | null;
  /** The strategy that picked: a fallback's when a fallback applied. */
  readonly strategy: StrategyName;
  /**
   * The pool's own strategy, even when a fallback picked: what the Go router reports as the
   * decision's `strategy` (and so what its plugins see).
   */
  readonly poolStrategy: StrategyName;
  /** The candidates after filters, sort and limit, in that order. */
  readonly candidates: readonly Backend[];
  /** Index of the chosen backend in `candidates`. */
  readonly selectedIndex: number;
  /** `candidates[selectedIndex]`. */
  readonly backend: Backend;
}

/** The outcome of `decide`. */
export type DecideResult =
  | { readonly ok: true; readonly decision: Decision }
  | { readonly ok: false; readonly error: RoutingError };

/** A compiled routing table. */
export interface Router {
  /**
   * Chooses a backend for one connection. Never throws, and never rejects. The result is
   * immediate, except on routes whose pool draws from a provider that allocates per
   * connection (agones `mode: allocate`): those give a promise that settles within the
   * provider's allocation bound.
   */
  decide(req: RouteRequest): DecideResult | Promise<DecideResult>;
  /**
   * Decides as `decide` would now and says how: the matched route, the candidates and each
   * selection pass. Separate from `decide` so that the per-connection path carries no tracing.
   * It consumes no round-robin turn (it shows the pick the next real decision makes) and never
   * allocates from a per-connection provider (the trace says so instead). Never rejects.
   */
  explain(req: RouteRequest): Promise<RouteExplanation>;
}

/** A decision as `Router.explain` made it, and how. */
export interface RouteExplanation {
  /** What `decide` would answer now (but see {@link RouteTrace.allocation}). */
  readonly result: DecideResult;
  /** How it was reached. */
  readonly trace: RouteTrace;
}

/** The steps of one explained decision. */
export interface RouteTrace {
  /** `routes[i]` or `default`; `null` when no route matched and there is no default pool. */
  readonly route: string | null;
  /** The `match.hostname` pattern that matched; `null` for the default pool or no route. */
  readonly matched: Decision["matched"];
  /**
   * The pool's candidates after discovery, in order, drained ones included and marked (they
   * take no part in the passes).
   */
  readonly resolved: readonly ResolvedCandidate[];
  /**
   * The provider of a pool that allocates a game server per connection (agones `mode:
   * allocate`): explain does not allocate one, so `resolved` holds the static backends only and
   * the result is a `discovery` error saying so. `null` otherwise.
   */
  readonly allocation: string | null;
  /** The selection passes run, in order: the pool's own, then each fallback tried. */
  readonly attempts: readonly AttemptTrace[];
}

/** One resolved candidate of an explained decision. */
export interface ResolvedCandidate {
  /** The backend as discovery (or the config) gives it. */
  readonly backend: Backend;
  /** Taken out of new decisions by an operator's drain. */
  readonly drained: boolean;
}

/** One selection pass of an explained decision: filter → sort → limit → pick. */
export interface AttemptTrace {
  /** The pass's strategy (a fallback's own, when it sets one). */
  readonly strategy: StrategyName;
  /** The candidates the pass's filters kept (all of them without filters). */
  readonly afterFilters: readonly Backend[];
  /** `afterFilters` in the pass's sort order (unchanged without `sort`). */
  readonly afterSort: readonly Backend[];
  /** `afterSort` cut to the pass's `limit` (unchanged without one). */
  readonly afterLimit: readonly Backend[];
  /** Index into `afterLimit` of the strategy's pick; -1 when the pass picked nothing. */
  readonly picked: number;
  /**
   * Why the pass picked nothing (the filters left no candidate, so the next pass runs; or the
   * strategy cannot run); `null` when it picked.
   */
  readonly note: string | null;
}

/**
 * One backend for one connection from a per-connection provider; on failure it rejects with an
 * error whose message names the provider (routing adds only the route).
 */
export type Allocate = () => Promise<Backend>;

/** What `compileRouter` takes besides the config; everything is optional. */
export interface RouterOptions {
  /** Uniform in [0, 1); default `Math.random`. */
  readonly random?: () => number;
  /** Epoch milliseconds, for `game_start_not_past`; default `Date.now`. */
  readonly now?: () => number;
  /**
   * The current backends of a discovery provider (a snapshot lookup). May throw, which fails
   * the decision with code `discovery`; when absent, pools with `discovery` fail that way too.
   */
  readonly discovered?: (provider: string) => readonly Backend[];
  /**
   * The per-connection allocation of a provider that has one (agones `mode: allocate`), else
   * `null`; asked once per pool at compile time. Such a pool's discovered backends are the
   * one allocated for the connection; a rejection fails the decision with code `discovery`.
   */
  readonly allocator?: (provider: string) => Allocate | null;
  /**
   * The backends taken out of new decisions (`host:port`, as `backendKey` spells them),
   * read once per decision; an operator's drain (admin API). Default: none.
   */
  readonly drained?: () => ReadonlySet<string>;
  /** Builds hostname-pattern matchers; default `compileHostPattern` (tests count calls). */
  readonly compilePattern?: (pattern: string) => HostMatcher;
}
