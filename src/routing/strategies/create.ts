import type { StrategyName } from "../../config/mod.ts";
import { compileNumberKey } from "../meta_key.ts";
import { leastLoaded } from "./least_loaded.ts";
import { p2c } from "./p2c.ts";
import { randomPick } from "./random.ts";
import { roundRobin } from "./round_robin.ts";
import type { Strategy } from "./strategy.ts";
import { weighted } from "./weighted.ts";

/** What selects and configures a strategy (a pool's, or a fallback's effective settings). */
export interface StrategySettings {
  /** Which strategy to build. */
  readonly strategy: StrategyName;
  /** Metadata key minimised by `least_loaded` and `p2c` (an empty key reads as missing). */
  readonly key: string;
  /** `p2c` sample size; 0 or less means 2. */
  readonly sample: number;
}

/** Builds the strategy, with its key accessor compiled once. */
export function createStrategy(settings: StrategySettings): Strategy {
  switch (settings.strategy) {
    case "round_robin":
      return roundRobin;
    case "random":
      return randomPick;
    case "weighted":
      return weighted;
    case "least_loaded":
      return leastLoaded(compileNumberKey(settings.key));
    case "p2c":
      return p2c(compileNumberKey(settings.key), settings.sample);
  }
}
