/** Why a runtime-state operation failed. */
export type StateErrorCode =
  /** A stored state that is not valid JSON of the expected shape (or version). */
  | "corrupt"
  /** A state larger than `MAX_STATE_BYTES`, stored or about to be saved. */
  | "too_large"
  /** A value the caller gave is not valid (a `host:port`, a maintenance field). */
  | "invalid"
  /** The store could not be reached or written (file system, Kubernetes API). */
  | "store"
  /** Another writer kept winning: the save was given up after its bounded retries. */
  | "conflict";

/** A runtime-state operation failed; the message names the store or the value at fault. */
export class StateError extends Error {
  /** Fixed, so logs and stack traces name the class. */
  override readonly name = "StateError";

  /** `field` names the value at fault (`backend`), when there is one. */
  constructor(
    readonly code: StateErrorCode,
    message: string,
    readonly field: string | null = null,
  ) {
    super(message);
  }
}
