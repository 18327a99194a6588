import type { Config, PoolConfig } from "../../config/mod.ts";

/**
 * Pool settings that can leave an allocated game server unused: each connection of a pool on
 * an agones allocate provider allocates one, but with static backends in `union` mode the
 * strategy may pick a static backend instead, and filters may drop the allocated one. The Go
 * router behaves the same, so these are warnings (logged at load), not errors.
 */
export function allocationWarnings(config: Config): string[] {
  const allocating = new Set(
    config.discovery.providers
      .filter((p) => p.type === "agones" && p.agones.mode === "allocate")
      .map((p) => p.name),
  );
  if (allocating.size === 0) return [];
  const pools: Array<[string, PoolConfig]> = config.routing.routes.map((r, i) => [
    `routing.routes[${i}].pool`,
    r.pool,
  ]);
  if (config.routing.default !== null) pools.push(["routing.default", config.routing.default]);
  return pools.flatMap(([path, pool]) => poolWarnings(path, pool, allocating));
}

function poolWarnings(path: string, pool: PoolConfig, allocating: ReadonlySet<string>): string[] {
  // Config load has checked that the name is exactly a configured provider's.
  if (pool.discovery === null || !allocating.has(pool.discovery.provider)) return [];
  const { provider } = pool.discovery;
  const unused = `the game server allocated for a connection may be left unused`;
  const warnings: string[] = [];
  if (pool.discovery.mode === "union" && pool.backends.length > 0) {
    warnings.push(
      `${path}: allocate provider "${provider}" with static backends in union mode: the ` +
        `strategy may pick a static backend and ${unused} (use mode: prefer)`,
    );
  }
  const filtered = pool.filters.length > 0 || pool.fallback.some((f) => f.filters !== undefined);
  if (filtered) {
    warnings.push(`${path}: allocate provider "${provider}" with filters: ${unused}`);
  }
  return warnings;
}
