import type { Backend, PoolConfig } from "../config/mod.ts";
import { goTrimSpace } from "./go_compat.ts";
import { perBackend } from "./per_backend.ts";
import { RoutingError } from "./routing_error.ts";

/** Produces a pool's candidates for one decision, or the error that stops it. */
export type CandidateSource = () => readonly Backend[] | RoutingError;

/**
 * Compiles where a pool's candidates come from. Static-only pools hand out their own list
 * (unchanged: no de-duplication, weights as configured, as in the Go router). With discovery:
 * `prefer` = discovered if any else static, `union` = discovered then static; de-duplicated by
 * host:port (first wins); for a `weighted` pool, weights ≤ 0 become 1.
 */
export function compileCandidateSource(
  pool: PoolConfig,
  route: string,
  discovered: ((provider: string) => readonly Backend[]) | undefined,
): CandidateSource {
  const statics = pool.backends;
  if (pool.discovery === null) return () => statics;
  const provider = goTrimSpace(pool.discovery.provider);
  const prefer = pool.discovery.mode === "prefer";
  // One weight-1 copy per discovered backend, not one per decision: the copy is what filters,
  // sorts and strategies see, and their per-backend caches key on it.
  const weightOne = pool.strategy === "weighted" ? perBackend((b) => ({ ...b, weight: 1 })) : null;
  if (discovered === undefined) {
    return () =>
      new RoutingError("discovery", `${route}: no discovery is running for "${provider}"`, route);
  }
  return () => {
    try {
      const found = discovered(provider);
      const merged = prefer ? (found.length > 0 ? found : statics) : [...found, ...statics];
      return dedupe(merged, weightOne);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      return new RoutingError(
        "discovery",
        `${route}: discovery provider "${provider}" failed: ${why}`,
        route,
        { cause: err },
      );
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
