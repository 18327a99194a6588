import type { NumberKeyReader } from "../meta_key.ts";
import type { Strategy } from "./strategy.ts";

/**
 * The candidate with the smallest numeric `key`; the first one wins a tie. Candidates without
 * a numeric value are skipped (so are `+Inf` and NaN, which never compare smaller); when none
 * has one, index 0.
 */
export function leastLoaded(read: NumberKeyReader): Strategy {
  return {
    pick(candidates) {
      let best = Infinity;
      let bestIndex = -1;
      for (let i = 0; i < candidates.length; i++) {
        const value = read(candidates[i]!);
        if (value !== undefined && value < best) {
          best = value;
          bestIndex = i;
        }
      }
      return bestIndex >= 0 ? bestIndex : 0;
    },
  };
}
