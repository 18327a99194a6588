import type { Strategy } from "./strategy.ts";

/** `counter++ mod n` on the route's counter, which only advances when this strategy picks. */
export const roundRobin: Strategy = {
  pick: (candidates, ctx) => ctx.nextTurn() % candidates.length,
};
