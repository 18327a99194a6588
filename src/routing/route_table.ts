import type { HostMatcher } from "../config/mod.ts";

/** Finds the first route, in config order, with a pattern matching a host. */
export interface RouteTable {
  /** The route index, or -1. `host` is canonical (lower case, no trailing dot). */
  lookup(host: string): number;
}

interface PatternEntry {
  readonly route: number;
  readonly matches: HostMatcher;
}

// Without these, `path.Match` is plain string equality.
const GLOB_META = /[*?[\\]/;

/**
 * Compiles each route's hostname patterns. Plain names go into a map (first route wins); glob
 * patterns stay in route order. A lookup takes the map's hit, then checks only the patterns of
 * earlier routes, so the answer is "first matching route" without scanning every route.
 */
export function compileRouteTable(
  hostnames: readonly (readonly string[])[],
  compilePattern: (pattern: string) => HostMatcher,
): RouteTable {
  const exact = new Map<string, number>();
  const patterns: PatternEntry[] = [];
  hostnames.forEach((names, route) => {
    for (const name of names) {
      // The Go router never matches an empty pattern (nor an empty SNI).
      if (name === "") continue;
      if (GLOB_META.test(name)) {
        patterns.push({ route, matches: compilePattern(name) });
      } else if (!exact.has(name)) {
        exact.set(name, route);
      }
    }
  });
  return {
    lookup(host) {
      if (host === "") return -1;
      const hit = exact.get(host) ?? Infinity;
      for (const p of patterns) {
        if (p.route >= hit) break;
        if (p.matches(host)) return p.route;
      }
      return hit === Infinity ? -1 : hit;
    },
  };
}
