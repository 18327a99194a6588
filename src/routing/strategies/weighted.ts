import { type Strategy } from "./strategy.ts";

/** A weight of 0 or less counts as 1, as in the Go router. */
function effectiveWeight(weight: number): number {
  return weight > 0 ? weight : 1;
}

/**
 * Probability proportional to weight: one draw over the weight total, then the first candidate
 * whose running total exceeds it. For integer weights this is exactly Go's `rng.Intn(total)`
 * walk (`floor(x) < acc` ⇔ `x < acc` for integer `acc`).
 */
export const weighted: Strategy = {
  pick(candidates, ctx) {
    let total = 0;
    for (const b of candidates) total += effectiveWeight(b.weight);
    const target = ctx.random() * total;
    let running = 0;
    for (let i = 0; i < candidates.length; i++) {
      running += effectiveWeight(candidates[i]!.weight);
      if (target < running) return i;
    }
    return candidates.length - 1;
  },
};
