import type { RuntimeSnapshot } from "./snapshot.ts";

/**
 * One loaded config and the connections still using it. A connection leases the generation
 * current when it starts and releases it when it ends, so a reload can tell when nothing uses an
 * old generation any more (and its removed plugins can be closed).
 */
export class Generation {
  #inFlight = 0;
  #idle: PromiseWithResolvers<void> | null = null;

  /** `snapshot` is what every connection leasing this generation is served with. */
  constructor(readonly snapshot: RuntimeSnapshot) {}

  /** Connections currently holding a lease. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Takes a lease; call `release` exactly once when the connection ends. */
  acquire(): void {
    this.#inFlight++;
  }

  /** Gives a lease back; wakes `idle()` waiters when it was the last one. */
  release(): void {
    this.#inFlight--;
    if (this.#inFlight === 0 && this.#idle) {
      this.#idle.resolve();
      this.#idle = null;
    }
  }

  /** Resolves once no connection holds a lease (at once if none does). */
  idle(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    this.#idle ??= Promise.withResolvers<void>();
    return this.#idle.promise;
  }
}

/**
 * The current generation and the older ones connections still hold. `swap` is synchronous, so
 * a connection sees either the old or the new generation, never a mix.
 */
export class GenerationSlot {
  #current: Generation;
  readonly #older = new Set<Generation>();
  #count = 1;

  /** Starts with `snapshot` as the current generation. */
  constructor(snapshot: RuntimeSnapshot) {
    this.#current = new Generation(snapshot);
  }

  /** The generation new connections get. */
  get current(): Generation {
    return this.#current;
  }

  /** How many configs have been served: 1 at start, one more per successful reload. */
  get count(): number {
    return this.#count;
  }

  /** Leases the current generation; the caller must `release` it. */
  acquire(): Generation {
    const generation = this.#current;
    generation.acquire();
    return generation;
  }

  /**
   * Makes `snapshot` current and returns every older generation still in use at this moment
   * (the ones whose connections may still call plugins of any earlier snapshot).
   */
  swap(snapshot: RuntimeSnapshot): readonly Generation[] {
    const previous = this.#current;
    this.#current = new Generation(snapshot);
    this.#count++;
    this.#older.add(previous);
    for (const g of this.#older) if (g.inFlight === 0) this.#older.delete(g);
    return [...this.#older];
  }
}
