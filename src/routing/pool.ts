import {
  type Backend,
  type FallbackConfig,
  type FilterConfig,
  goTrimSpace,
  type PoolConfig,
  type SortKeyConfig,
  type StrategyName,
} from "../config/mod.ts";
import { type BackendFilter, type ClientFacts, compileFilters } from "./filters.ts";
import { compileSort, type Sorter } from "./sort.ts";
import { createStrategy } from "./strategies/create.ts";
import type { PickContext, Strategy } from "./strategies/strategy.ts";
import type { AttemptTrace } from "./types.ts";

/** One selection pass: the pool's own settings, or the pool's overridden by one fallback. */
export interface Attempt {
  readonly strategyName: StrategyName;
  /** The strategy, or the error the Go router reports when the pass gets to picking. */
  readonly strategy: Strategy | string;
  readonly filter: BackendFilter | null;
  readonly sort: Sorter | null;
  /** 0 = no limit. */
  readonly limit: number;
}

/** What one attempt chose. */
export interface Picked {
  readonly attempt: Attempt;
  readonly candidates: readonly Backend[];
  readonly index: number;
}

interface Settings {
  readonly strategy: StrategyName;
  readonly key: string;
  readonly sample: number;
  readonly sort: readonly SortKeyConfig[];
  readonly limit: number;
  readonly filters: readonly FilterConfig[];
}

/**
 * Compiles the pool's own pass and one per fallback. Each fallback overrides the pool's base
 * settings (not the previous fallback's) with the fields it defines; `filters: []` or
 * `sort: []` therefore clears them.
 */
export function compileAttempts(pool: PoolConfig): readonly Attempt[] {
  const base: Settings = {
    strategy: pool.strategy,
    key: goTrimSpace(pool.key),
    sample: pool.sample,
    sort: pool.sort,
    limit: pool.limit,
    filters: pool.filters,
  };
  return [base, ...pool.fallback.map((fb) => override(base, fb))].map(compileAttempt);
}

function override(base: Settings, fb: FallbackConfig): Settings {
  return {
    strategy: fb.strategy ?? base.strategy,
    key: fb.key === undefined ? base.key : goTrimSpace(fb.key),
    sample: fb.sample ?? base.sample,
    sort: fb.sort ?? base.sort,
    limit: fb.limit ?? base.limit,
    filters: fb.filters ?? base.filters,
  };
}

function compileAttempt(s: Settings): Attempt {
  const keyless = s.key === "" && (s.strategy === "least_loaded" || s.strategy === "p2c");
  return {
    strategyName: s.strategy,
    strategy: keyless ? `key must not be empty for strategy ${s.strategy}` : createStrategy(s),
    filter: compileFilters(s.filters),
    sort: compileSort(s.sort),
    limit: s.limit,
  };
}

/**
 * Runs the attempts in order over the resolved candidates: filter → sort → limit → pick. An
 * attempt whose filters leave nothing passes to the next; `null` when none leaves anything.
 */
export function runAttempts(
  attempts: readonly Attempt[],
  resolved: readonly Backend[],
  client: () => ClientFacts,
  ctx: PickContext,
): Picked | null {
  let facts: ClientFacts | undefined;
  for (const attempt of attempts) {
    let list: readonly Backend[] = resolved;
    if (attempt.filter !== null) {
      const pass = attempt.filter;
      const who = facts ??= client();
      list = resolved.filter((b) => pass(b, who));
      if (list.length === 0) continue;
    }
    if (attempt.sort !== null) list = attempt.sort(list);
    if (attempt.limit > 0 && list.length > attempt.limit) list = list.slice(0, attempt.limit);
    const index = typeof attempt.strategy === "string" ? -1 : attempt.strategy.pick(list, ctx);
    return { attempt, candidates: list, index };
  }
  return null;
}

/**
 * {@link runAttempts} with every step kept, for explain: one trace per attempt run. Kept apart
 * from `runAttempts` so that the per-connection path builds none of these lists.
 */
export function traceAttempts(
  attempts: readonly Attempt[],
  resolved: readonly Backend[],
  client: () => ClientFacts,
  ctx: PickContext,
): { readonly picked: Picked | null; readonly trace: readonly AttemptTrace[] } {
  const trace: AttemptTrace[] = [];
  let facts: ClientFacts | undefined;
  for (const attempt of attempts) {
    const strategy = attempt.strategyName;
    let afterFilters: readonly Backend[] = resolved;
    if (attempt.filter !== null) {
      const pass = attempt.filter;
      const who = facts ??= client();
      afterFilters = resolved.filter((b) => pass(b, who));
    }
    if (afterFilters.length === 0) {
      const note = "the filters left no candidate: the next pass runs";
      trace.push({ strategy, afterFilters, afterSort: [], afterLimit: [], picked: -1, note });
      continue;
    }
    const afterSort = attempt.sort === null ? afterFilters : attempt.sort(afterFilters);
    const afterLimit = attempt.limit > 0 && afterSort.length > attempt.limit
      ? afterSort.slice(0, attempt.limit)
      : afterSort;
    const index = typeof attempt.strategy === "string"
      ? -1
      : attempt.strategy.pick(afterLimit, ctx);
    const note = typeof attempt.strategy === "string" ? attempt.strategy : null;
    trace.push({ strategy, afterFilters, afterSort, afterLimit, picked: index, note });
    return { picked: { attempt, candidates: afterLimit, index }, trace };
  }
  return { picked: null, trace };
}
