import type { Backend } from "../../config/mod.ts";

/** What a strategy may use besides the candidates; one per route. */
export interface PickContext {
  /** Uniform in [0, 1). */
  readonly random: () => number;
  /** Returns the route's round-robin counter and advances it (shared by the pool's fallbacks). */
  readonly nextTurn: () => number;
}

/** Picks one of a non-empty candidate list; returns an index in `[0, candidates.length)`. */
export interface Strategy {
  /** Returns the index of the chosen candidate; `candidates` is never empty. */
  pick(candidates: readonly Backend[], ctx: PickContext): number;
}

/** A uniform index in `[0, n)`; clamped so that a misbehaving `random` still yields one. */
export function drawIndex(random: () => number, n: number): number {
  const i = Math.floor(random() * n);
  if (i >= n) return n - 1;
  return i >= 0 ? i : 0;
}
