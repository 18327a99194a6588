import { type Backend, goTrimSpace, type PoolConfig } from "../config/mod.ts";
import { perBackend } from "./per_backend.ts";
import { RoutingError } from "./routing_error.ts";
import type { Allocate } from "./types.ts";

/** What a pool's candidates are for one decision, or the error that stops it. */
export type Resolved = readonly Backend[] | RoutingError;

/**
 * Produces a pool's candidates for one decision: at once from snapshots, or a promise (that
 * never rejects) when the pool's provider allocates per connection.
 */
export interface CandidateSource {
  (): Resolved | Promise<Resolved>;
  /**
   * The provider, when calling the source allocates a game server (explain must not call it);
   * absent otherwise.
   */
  readonly allocates?: string;
}

/** Where discovered backends come from (both optional; see `RouterOptions`). */
export interface DiscoveredSources {
  readonly discovered?: (provider: string) => readonly Backend[];
  readonly allocator?: (provider: string) => Allocate | null;
}

/**
 * Compiles where a pool's candidates come from. Static-only pools hand out their own list
 * (unchanged: no de-duplication, weights as configured, as in the Go router). With discovery:
 * `prefer` = discovered if any else static, `union` = discovered then static; de-duplicated by
 * host:port (first wins); for a `weighted` pool, weights ≤ 0 become 1. A provider that
 * allocates per connection discovers the one backend it allocated.
 */
export function compileCandidateSource(
  pool: PoolConfig,
  route: string,
  sources: DiscoveredSources,
): CandidateSource {
  const statics = pool.backends;
  if (pool.discovery === null) return () => statics;
  const provider = goTrimSpace(pool.discovery.provider);
  const prefer = pool.discovery.mode === "prefer";
  // One weight-1 copy per discovered backend, not one per decision: the copy is what filters,
  // sorts and strategies see, and their per-backend caches key on it.
  const weightOne = pool.strategy === "weighted" ? perBackend((b) => ({ ...b, weight: 1 })) : null;
  const merge = (found: readonly Backend[]): Backend[] =>
    dedupe(prefer ? (found.length > 0 ? found : statics) : [...found, ...statics], weightOne);
  // A discovery failure as a decision error: `prefix`, then the cause's message.
  const failure = (prefix: string) => (err: unknown): RoutingError => {
    const why = err instanceof Error ? err.message : String(err);
    return new RoutingError("discovery", `${prefix}${why}`, route, { cause: err });
  };
  const allocate = sources.allocator?.(provider) ?? null;
  if (allocate !== null) {
    // An allocation's error already names its provider.
    const allocationFailure = failure(`${route}: `);
    const source = () => {
      try {
        return allocate().then((backend) => merge([backend]), allocationFailure);
      } catch (err) {
        return allocationFailure(err);
      }
    };
    return Object.assign(source, { allocates: provider });
  }
  const snapshotFailure = failure(`${route}: discovery provider "${provider}" failed: `);
  const { discovered } = sources;
  if (discovered === undefined) {
    return () =>
      new RoutingError("discovery", `${route}: no discovery is running for "${provider}"`, route);
  }
  return () => {
    try {
      return merge(discovered(provider));
    } catch (err) {
      return snapshotFailure(err);
    }
  };
}

function dedupe(
  backends: readonly Backend[],
  weightOne: ((b: Backend) => Backend) | null,
): Backend[] {
  const seen = new Set<string>();
  const out: Backend[] = [];
  for (const b of backends) {
    const id = `${b.host}:${b.port}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(weightOne !== null && !(b.weight > 0) ? weightOne(b) : b);
  }
  return out;
}
