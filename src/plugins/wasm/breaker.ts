/**
 * A circuit breaker: after `failureThreshold` consecutive failed calls the plugin is skipped for
 * `cooldownMs` (calls fail fast), then one trial call is let through; its success closes the
 * breaker, its failure opens it for another cool-down. A broken module therefore cannot make
 * every connection pay its timeout.
 */

/** Breaker thresholds. */
export interface BreakerOptions {
  /** Consecutive failures that open the breaker (default 5). */
  readonly failureThreshold?: number;
  /** How long an open breaker rejects calls, ms (default 10 000). */
  readonly cooldownMs?: number;
  /** Monotonic clock in ms (default `performance.now`). */
  readonly now?: () => number;
}

/** The breaker's state. */
export type BreakerState = "closed" | "open" | "half_open";

/** See the module comment. */
export class CircuitBreaker {
  readonly #threshold: number;
  readonly #cooldownMs: number;
  readonly #now: () => number;
  #failures = 0;
  #openedAt: number | null = null;
  #trialInFlight = false;

  /** Starts closed; unset options take the defaults in {@link BreakerOptions}. */
  constructor(options: BreakerOptions = {}) {
    this.#threshold = options.failureThreshold ?? 5;
    this.#cooldownMs = options.cooldownMs ?? 10_000;
    this.#now = options.now ?? (() => performance.now());
  }

  /** The current state. */
  get state(): BreakerState {
    if (this.#openedAt === null) return "closed";
    return this.#now() - this.#openedAt >= this.#cooldownMs ? "half_open" : "open";
  }

  /**
   * Whether a call may go ahead now. In `half_open` only one trial call is admitted until its
   * outcome is recorded. A diagnostic call (`observed: false`, an explain's) goes ahead only
   * while closed: it never takes the trial a player's call needs to close the breaker again.
   */
  admit(observed = true): boolean {
    const state = this.state;
    if (state === "closed") return true;
    if (!observed || state === "open" || this.#trialInFlight) return false;
    this.#trialInFlight = true;
    return true;
  }

  /** Records the outcome of an admitted call. */
  record(ok: boolean): void {
    this.#trialInFlight = false;
    if (ok) {
      this.#failures = 0;
      this.#openedAt = null;
      return;
    }
    this.#failures++;
    if (this.#openedAt !== null || this.#failures >= this.#threshold) this.#openedAt = this.#now();
  }
}
