import type { HostMatcher } from "../config/mod.ts";

/** A route found for a host, and the pattern that matched it. */
export interface RouteMatch {
  /** Index into `routing.routes`. */
  readonly route: number;
  /** The matching `match.hostname` pattern as configured (canonical). */
  readonly hostname: string;
  /** Whether that pattern is a glob (else it equals the host). */
  readonly glob: boolean;
}

/** Finds the first route, in config order, with a pattern matching a host. */
export interface RouteTable {
  /**
   * The route and its matching pattern, or `null`. `host` is canonical (lower case, no trailing
   * dot). The result is one of the table's own objects: a lookup allocates nothing.
   */
  lookup(host: string): RouteMatch | null;
}

interface PatternEntry extends RouteMatch {
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
  const exact = new Map<string, RouteMatch>();
  const patterns: PatternEntry[] = [];
  hostnames.forEach((names, route) => {
    for (const name of names) {
      // The Go router never matches an empty pattern (nor an empty SNI).
      if (name === "") continue;
      if (GLOB_META.test(name)) {
        patterns.push({ route, hostname: name, glob: true, matches: compilePattern(name) });
      } else if (!exact.has(name)) {
        exact.set(name, { route, hostname: name, glob: false });
      }
    }
  });
  return {
    lookup(host) {
      if (host === "") return null;
      const hit = exact.get(host) ?? null;
      const before = hit?.route ?? Infinity;
      for (const p of patterns) {
        if (p.route >= before) break;
        if (p.matches(host)) return p;
      }
      return hit;
    },
  };
}
