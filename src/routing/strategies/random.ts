import { drawIndex, type Strategy } from "./strategy.ts";

/** A uniformly random candidate. */
export const randomPick: Strategy = {
  pick: (candidates, ctx) => drawIndex(ctx.random, candidates.length),
};
