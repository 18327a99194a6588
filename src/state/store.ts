import type { ConsoleState } from "./state.ts";

/** Where a {@link StateStore} keeps the state. */
export type StoreKind = "memory" | "file" | "config_map";

/**
 * Where the runtime state lives. `update` is a read-modify-write that cannot lose another
 * writer's change (a file lock; a ConfigMap replace naming the `resourceVersion` read, retried
 * on conflict); `watch` reports changes made by OTHER writers (replicas, processes).
 */
export interface StateStore {
  /** Which implementation this is. */
  readonly kind: StoreKind;
  /** Whether other processes see this state (false for memory). */
  readonly shared: boolean;
  /** Where the state is kept (a path, `configmap ns/name at <server>`), for status and logs. */
  readonly where: string;
  /** The stored state (`EMPTY_STATE` when none, or when what is stored is unusable). */
  load(): Promise<ConsoleState>;
  /** Stores `state` as it is. */
  save(state: ConsoleState): Promise<void>;
  /**
   * Applies `change` to the state as stored right now and stores the result, which it returns.
   * `change` may be called more than once (after a conflict) and must not have side effects.
   *
   * @throws {StateError} `too_large`, `store`, `conflict`, or what `change` throws.
   */
  update(change: (current: ConsoleState) => ConsoleState): Promise<ConsoleState>;
  /** Calls `listener` with each state another writer stores; returns the unsubscribe. */
  watch(listener: (state: ConsoleState) => void): () => void;
  /** Stops watching and releases what the store holds. */
  close(): Promise<void>;
}
