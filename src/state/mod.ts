/**
 * The operator's runtime state: maintenance mode and drained backends, changed through the
 * admin API and read by the router on every connection. It is kept in a store — one JSON file
 * (`admin.state_file`), a Kubernetes ConfigMap every replica watches
 * (`admin.state_config_map`), or memory — so a change made through one replica reaches every
 * replica and survives restarts.
 *
 * Inside: `state.ts` the stored form, `*_store.ts` the stores, `maintenance_gate.ts` the
 * compiled per-connection check, `controls.ts` the live state, `open.ts` the factory.
 *
 * @module
 */

export {
  /** The live runtime state the router reads and the admin API changes. */
  ConsoleControls,
} from "./controls.ts";
export type {
  /** The runtime state in force as JSON (`GET maintenance`, the SSE `state` event). */
  ControlsView,
  /** The maintenance setting in force as JSON, with its `source`. */
  MaintenanceView,
  /** Where the state is kept, as `GET status` shows it. */
  StoreInfo,
} from "./controls.ts";
export {
  /** One maintenance setting compiled for the per-connection check. */
  MaintenanceGate,
} from "./maintenance_gate.ts";
export type {
  /** `config` or `api`: where the maintenance setting in force comes from. */
  MaintenanceSource,
  /** The player facts the bypass list is matched against. */
  PlayerFacts,
} from "./maintenance_gate.ts";
export {
  /** Picks the store the config names, loads it, returns the controls. */
  openControls,
  /** Whether two configs name different stores (a reload cannot switch: restart). */
  storeSettingsChanged,
} from "./open.ts";
export type {
  /** Options of {@link openControls} (logger; the Kubernetes connection for tests). */
  OpenControlsOptions,
} from "./open.ts";
export {
  /** The stored form: empty state, versioned JSON encode/decode, limits. */
  decodeState,
  EMPTY_STATE,
  encodeState,
  MAX_DRAINED,
  MAX_STATE_BYTES,
  STATE_VERSION,
} from "./state.ts";
export type {
  /** Maintenance set through the API (or `null`) and the drained backends. */
  ConsoleState,
} from "./state.ts";
export type {
  /** Where the runtime state is kept: load, save, update, watch, close. */
  StateStore,
  /** `memory`, `file` or `config_map`. */
  StoreKind,
} from "./store.ts";
export {
  /** The state in one ConfigMap shared by replicas (optimistic concurrency, watched). */
  ConfigMapStore,
  /** The ConfigMap `data` key holding the state. */
  STATE_KEY,
} from "./config_map_store.ts";
export {
  /** The state in one JSON file (atomic write, lock, bounded poll). */
  FileStore,
} from "./file_store.ts";
export type {
  /** Options of {@link FileStore}. */
  FileStoreOptions,
} from "./file_store.ts";
export {
  /** The state in this process only. */
  MemoryStore,
} from "./memory_store.ts";
export {
  /** A runtime-state operation failed (`code`, and `field` for a bad value). */
  StateError,
} from "./errors.ts";
export type {
  /** Why a runtime-state operation failed. */
  StateErrorCode,
} from "./errors.ts";
export {
  /** Validates a `host:port` backend name, returning the spelling drains use. */
  parseBackendKey,
} from "./backend_key.ts";
export {
  /** `POD_NAME`, else `HOSTNAME`, else an id made up at start. */
  replicaId,
} from "./replica.ts";
