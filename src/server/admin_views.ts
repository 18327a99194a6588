/**
 * What the admin API (`/api/v1/routes`, `/backends`, `/plugins`) shows of the config and the
 * runtime snapshot now served: plain JSON-ready values built per request from the snapshot, so a
 * reload shows at once and nothing here is kept. Labels match the metrics' (`routes[<i>]`,
 * `default`; plugin names).
 */
import {
  type Backend,
  type Config,
  isSecretKey,
  type PoolConfig,
  REDACTED,
} from "../config/mod.ts";
import type { Metrics } from "../observability/mod.ts";
import { backendKey } from "../routing/mod.ts";
import type { RuntimeControls } from "./controls.ts";
import type { RuntimeSnapshot } from "./snapshot.ts";

/** A pool's discovery reference as shown: the provider and how it combines with static backends. */
export type DiscoveryView = {
  /** The provider's name. */
  readonly provider: string;
  /** `union` or `prefer`. */
  readonly mode: string;
} | null;

/** One route (or the default pool) in `/api/v1/routes`. */
export interface RouteView {
  /** `routes[<i>]` or `default`, as the metrics label it. */
  readonly route: string;
  /** Hostname patterns; empty for the default pool. */
  readonly hostnames: readonly string[];
  /** The pool's strategy (`round_robin`, `weighted`, …). */
  readonly strategy: string;
  /** Static backends in the config. */
  readonly static_backends: number;
  /** Where the pool's discovered backends come from; `null` without `discovery`. */
  readonly discovery: DiscoveryView;
}

/** One live backend in `/api/v1/backends`. */
export interface BackendView {
  /** Host the client is referred to. */
  readonly host: string;
  /** UDP port the client is referred to. */
  readonly port: number;
  /** Share of picks under `weighted` (0 when unset). */
  readonly weight: number;
  /** Values at keys naming a secret are redacted. */
  readonly meta: Readonly<Record<string, string>> | null;
  /**
   * From the config, from the pool's discovery provider (Kubernetes, Agones), or pushed by a
   * process plugin (`set_targets` to a `type: plugin` provider).
   */
  readonly source: "static" | "discovered" | "pushed";
  /** Taken out of new decisions by an operator (admin API drain). */
  readonly drained: boolean;
}

/** One plugin in `/api/v1/plugins`. */
export interface PluginView {
  /** The plugin's configured name (its metrics label). */
  readonly name: string;
  /** `grpc`, `wasm` or `process`. */
  readonly type: string;
  /** `deny`, `route` or `mutate`. */
  readonly stage: string;
  /** `continue` or `deny` when a call fails. */
  readonly failure_policy: string;
  /** A call's deadline. */
  readonly timeout_ms: number;
  /** Calls are skipped (fail fast); `null` for a transport without a breaker. */
  readonly breaker_open: boolean | null;
  /** Calls since start, failed or not. */
  readonly calls: number;
  /** Failed calls per kind. */
  readonly errors: Readonly<Record<string, number>>;
  /** Median and 99th percentile (ms) of the latest calls; `null` before any. */
  readonly latency_ms:
    | { readonly p50: number; readonly p99: number; readonly calls: number }
    | null;
}

/** The admin API's router views, read from the snapshot now served on each call. */
export interface RouterViews {
  /** Every route in config order, then the default pool (`null` when there is none). */
  routes(): { routes: RouteView[]; default: RouteView | null };
  /** Per route and the default pool: the backends a decision would start from now. */
  backends(): { pools: (RouteView & { backends: BackendView[] })[] };
  /** Every plugin in execution order. */
  plugins(): { plugins: PluginView[] };
}

/** Views of whatever `current()` returns at the time of each call. */
export function routerViews(
  current: () => RuntimeSnapshot,
  metrics: Metrics,
  controls: RuntimeControls,
): RouterViews {
  return {
    routes: () => {
      const { config } = current();
      const pool = config.routing.default;
      return {
        routes: config.routing.routes.map((r, i) => routeView(`routes[${i}]`, r.hostnames, r.pool)),
        default: pool === null ? null : routeView("default", [], pool),
      };
    },
    backends: () => {
      const { config, discovery } = current();
      const { drained } = controls;
      const pools = poolsOf(config).map(({ label, hostnames, pool }) => {
        const live = pool.backends.map((b) => backendView(b, "static", drained));
        const provider = pool.discovery?.provider;
        if (provider !== undefined && discovery.names.includes(provider)) {
          const pushed = config.discovery.providers.some((p) =>
            p.name === provider && p.type === "plugin"
          );
          for (const b of discovery.discovered(provider)) {
            live.push(backendView(b, pushed ? "pushed" : "discovered", drained));
          }
        }
        return { ...routeView(label, hostnames, pool), backends: live };
      });
      return { pools };
    },
    plugins: () => {
      const { config, chain } = current();
      const breakers = new Map(chain.transports.map((t) => [t.name, t.circuitOpen ?? null]));
      return {
        plugins: config.plugins.map((p) => {
          const counts = metrics.pluginCounts(p.name);
          return {
            name: p.name,
            type: p.type,
            stage: p.stage,
            failure_policy: p.failurePolicy,
            timeout_ms: p.timeoutMs,
            breaker_open: breakers.get(p.name) ?? null,
            calls: counts?.calls ?? 0,
            errors: counts?.errors ?? {},
            latency_ms: counts?.latencyMs ?? null,
          };
        }),
      };
    },
  };
}

function poolsOf(config: Config) {
  const pools = config.routing.routes.map((r, i) => ({
    label: `routes[${i}]`,
    hostnames: r.hostnames,
    pool: r.pool,
  }));
  const pool = config.routing.default;
  return pool === null ? pools : [...pools, { label: "default", hostnames: [], pool }];
}

function routeView(route: string, hostnames: readonly string[], pool: PoolConfig): RouteView {
  return {
    route,
    hostnames,
    strategy: pool.strategy,
    static_backends: pool.backends.length,
    discovery: pool.discovery && { provider: pool.discovery.provider, mode: pool.discovery.mode },
  };
}

function backendView(
  backend: Backend,
  source: BackendView["source"],
  drained: ReadonlySet<string>,
): BackendView {
  const meta = backend.meta &&
    Object.fromEntries(
      Object.entries(backend.meta).map(([k, v]) => [k, isSecretKey(k) ? REDACTED : v]),
    );
  const { host, port, weight } = backend;
  return { host, port, weight, meta, source, drained: drained.has(backendKey(backend)) };
}
