import { type ConsoleState, EMPTY_STATE, encodeState } from "./state.ts";
import type { StateStore } from "./store.ts";

/** The state in this process only: lost on restart, not seen by other replicas. */
export class MemoryStore implements StateStore {
  readonly kind = "memory";
  readonly shared = false;
  readonly where = "memory (this process only)";
  #state: ConsoleState;

  /** Starts from `initial` (default: nothing set). */
  constructor(initial: ConsoleState = EMPTY_STATE) {
    this.#state = initial;
  }

  load(): Promise<ConsoleState> {
    return Promise.resolve(this.#state);
  }

  save(state: ConsoleState): Promise<void> {
    encodeState(state); // the same size limit as the shared stores
    this.#state = state;
    return Promise.resolve();
  }

  async update(change: (current: ConsoleState) => ConsoleState): Promise<ConsoleState> {
    const next = change(this.#state);
    await this.save(next);
    return next;
  }

  /** No other writer exists: nothing is ever reported. */
  watch(_listener: (state: ConsoleState) => void): () => void {
    return () => {};
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
