/**
 * Exponential back-off, one implementation for every retry loop in the router (informers,
 * plugin reconnects and restarts, state store conflicts and locks): each caller used to compute
 * it its own way, and the copies drifted in their off-by-ones.
 */

/**
 * How retry delays grow: after the n-th consecutive failure the delay is
 * `min(maxMs, initialMs · multiplier^(n−1))`, then jittered. No failure, no delay.
 */
export interface BackoffOptions {
  /** The delay after the first failure, ms (before jitter). */
  readonly initialMs: number;
  /** The largest delay before jitter, ms. */
  readonly maxMs: number;
  /** Growth per further failure (default 2). */
  readonly multiplier?: number;
  /**
   * Randomisation of each delay (default none). `"full"`: uniform in [0, delay), so a crowd of
   * clients failing together spreads out over the whole interval; a number `r` in [0, 1]: the
   * delay scaled by a factor uniform in [1 − r, 1 + r), which keeps it near its nominal value
   * (and may pass `maxMs` by up to `r`).
   */
  readonly jitter?: "full" | number;
}

/** Uniform in [0, 1), like `Math.random`. */
export type RandomSource = () => number;

/**
 * The delay after `failures` consecutive failures (0 when there are none), ms; `random` is drawn
 * once when the options ask for jitter.
 */
export function backoffDelay(
  options: BackoffOptions,
  failures: number,
  random: RandomSource = Math.random,
): number {
  if (failures <= 0) return 0;
  const { initialMs, maxMs, multiplier = 2, jitter } = options;
  // A long outage overflows the power to Infinity, which the cap absorbs; 0 · Infinity would not.
  const grown = initialMs === 0 ? 0 : initialMs * multiplier ** (failures - 1);
  const base = Math.min(maxMs, grown);
  if (jitter === undefined) return base;
  if (jitter === "full") return random() * base;
  return base * (1 + jitter * (2 * random() - 1));
}

/** Counts consecutive failures and gives the delay before the next try; a success resets it. */
export class Backoff {
  readonly #options: BackoffOptions;
  readonly #random: RandomSource;
  #failures = 0;

  /** `random` (default `Math.random`) is used only when the options ask for jitter. */
  constructor(options: BackoffOptions, random: RandomSource = Math.random) {
    this.#options = options;
    this.#random = random;
  }

  /** Consecutive failures since the last reset. */
  get failures(): number {
    return this.#failures;
  }

  /** Counts one more failure; returns the delay before the next try, ms. */
  fail(): number {
    this.#failures++;
    return this.delay();
  }

  /** The delay for the failures counted so far (0 after a reset), ms, without counting one. */
  delay(): number {
    return backoffDelay(this.#options, this.#failures, this.#random);
  }

  /** A success: the next failure starts again at `initialMs`. */
  reset(): void {
    this.#failures = 0;
  }
}
