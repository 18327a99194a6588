/**
 * Frees the native memory of ended QUIC connections sooner than V8 would on its own.
 *
 * Why: each `Deno.QuicConn` is a small garbage-collected wrapper around quinn's connection
 * state (tens of KiB: crypto, packet spaces, buffers), which Rust frees only once V8 has
 * collected the wrapper. V8 sees only the small wrapper, so it feels no pressure to collect:
 * with connections ending at ~2,500/s (one address opening connections as fast as it can, each
 * refused at 0.5-RTT) the router's RSS rose to ~0.85–1 GiB before V8's own collections kept
 * pace. A full collection of the router's small heap takes a few ms; running one after every
 * {@link CHURN_COLLECT_EVERY} ended connections, at most once per {@link CHURN_MIN_INTERVAL_MS},
 * held the same storm at ~0.17–0.23 GiB (`deno task bench:flood --scenario storm`; README
 * Benchmarks). Under ordinary load (a few hundred connections per second or fewer) it runs
 * every few seconds or less often.
 *
 * `gc` exists only when V8 runs with `--expose-gc`, which `start` passes to the router
 * (`cli/launch.ts`); without it (tests, `serve` run by hand) this does nothing.
 *
 * @module
 */

/** Ended connections between two collections at least. */
export const CHURN_COLLECT_EVERY = 1_000;

/** Time between two collections at least (ms). */
export const CHURN_MIN_INTERVAL_MS = 1_000;

/** V8's `gc` on a process started with `--expose-gc`, else `null`. */
export function exposedGc(): (() => void) | null {
  const gc = (globalThis as { gc?: unknown }).gc;
  return typeof gc === "function" ? () => gc() : null;
}

/** See the module comment. One per server. */
export class ChurnCollector {
  #ended = 0;
  #last: number;
  /** Collections run so far. */
  collections = 0;

  /**
   * `gc` collects (null: this does nothing); `now` is a monotonic clock (ms), the time of
   * construction counting as the last collection.
   */
  constructor(
    private readonly gc: (() => void) | null,
    private readonly now: () => number,
    private readonly every = CHURN_COLLECT_EVERY,
    private readonly minIntervalMs = CHURN_MIN_INTERVAL_MS,
  ) {
    this.#last = now();
  }

  /** One connection ended (served, refused or failed). */
  ended(): void {
    if (this.gc === null || ++this.#ended < this.every) return;
    const now = this.now();
    if (now - this.#last < this.minIntervalMs) return;
    this.#ended = 0;
    this.#last = now;
    this.collections++;
    this.gc();
  }
}
