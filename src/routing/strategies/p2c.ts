import type { NumberKeyReader } from "../meta_key.ts";
import { drawIndex, type Strategy } from "./strategy.ts";

/**
 * Power of two (or `sample`) choices: draw `sample` distinct candidates at random (0 means 2;
 * capped at the candidate count) and take the one with the smallest numeric `key`, a missing
 * value counting as +Inf. A tie keeps the candidate drawn first; when every drawn value is
 * missing (or NaN) the result is index 0, not a drawn one, as in the Go router.
 *
 * The draws are a partial Fisher–Yates shuffle: exactly `sample` calls to `random`, and the
 * same distribution as the Go router's redraw-on-duplicate loop.
 */
export function p2c(read: NumberKeyReader, sample: number): Strategy {
  const wanted = sample > 0 ? sample : 2;
  return {
    pick(candidates, ctx) {
      const n = candidates.length;
      const draws = Math.min(wanted, n);
      // Positions of the virtual shuffle that differ from the identity.
      const moved = new Map<number, number>();
      let best = Infinity;
      let bestIndex = -1;
      for (let i = 0; i < draws; i++) {
        const j = i + drawIndex(ctx.random, n - i);
        const drawn = moved.get(j) ?? j;
        moved.set(j, moved.get(i) ?? i);
        const value = read(candidates[drawn]!) ?? Infinity;
        if (value < best) {
          best = value;
          bestIndex = drawn;
        }
      }
      return bestIndex >= 0 ? bestIndex : 0;
    },
  };
}
