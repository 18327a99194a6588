import {
  type ConfigErrors,
  type MaintenanceConfig,
  maintenanceJson,
  parseMaintenance,
} from "../config/mod.ts";
import { parseBackendKey } from "./backend_key.ts";
import { StateError } from "./errors.ts";

/**
 * The operator's runtime switches, as stored: a maintenance setting made through the API
 * (`null`: follow the config's `maintenance` section) and the drained backends.
 */
export interface ConsoleState {
  /** Set by `PUT /api/v1/maintenance`; `null` after `DELETE` (the config's setting applies). */
  readonly maintenance: MaintenanceConfig | null;
  /** Drained backends as `host:port`, sorted, without duplicates. */
  readonly drained: readonly string[];
}

/** Nothing set: the config's maintenance setting, no drains. */
export const EMPTY_STATE: ConsoleState = Object.freeze({
  maintenance: null,
  drained: Object.freeze([]),
});

/** The stored form's version; another version is refused as corrupt (never half-read). */
export const STATE_VERSION = 1;
/** The largest stored state accepted or written (UTF-8 bytes of its JSON). */
export const MAX_STATE_BYTES = 64 * 1024;
/** The most backends drained at once. */
export const MAX_DRAINED = 1000;

/** The versioned JSON text of `state` (stable: equal states give equal texts). */
export function encodeState(state: ConsoleState): string {
  const text = JSON.stringify({
    version: STATE_VERSION,
    maintenance: state.maintenance === null ? null : maintenanceJson(state.maintenance),
    drained: state.drained,
  });
  if (new TextEncoder().encode(text).length > MAX_STATE_BYTES) {
    throw new StateError("too_large", `the state would be over ${MAX_STATE_BYTES} bytes`);
  }
  return text;
}

/**
 * Reads a stored state, validated as strictly as an API request (maintenance with the config's
 * validator, every drained `host:port`).
 *
 * @throws {StateError} `too_large` or `corrupt`, naming `where` and what is wrong.
 */
export function decodeState(text: string, where: string): ConsoleState {
  if (text.length > MAX_STATE_BYTES || new TextEncoder().encode(text).length > MAX_STATE_BYTES) {
    throw new StateError("too_large", `${where}: the state is over ${MAX_STATE_BYTES} bytes`);
  }
  const corrupt = (problem: string) => new StateError("corrupt", `${where}: ${problem}`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw corrupt("the state is not JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw corrupt("the state is not a JSON object");
  }
  const v = value as Record<string, unknown>;
  if (v.version !== STATE_VERSION) {
    throw corrupt(`unknown state version ${JSON.stringify(v.version)} (expected ${STATE_VERSION})`);
  }
  let maintenance: MaintenanceConfig | null = null;
  if (v.maintenance !== null && v.maintenance !== undefined) {
    try {
      maintenance = parseMaintenance(v.maintenance);
    } catch (err) {
      throw corrupt(`maintenance: ${(err as ConfigErrors).errors?.[0]?.message ?? String(err)}`);
    }
  }
  if (!Array.isArray(v.drained) || v.drained.length > MAX_DRAINED) {
    throw corrupt(`drained: expected a list of at most ${MAX_DRAINED} "host:port"`);
  }
  let drained: string[];
  try {
    drained = v.drained.map((d, i) => parseBackendKey(d, `drained[${i}]`));
  } catch (err) {
    throw corrupt((err as Error).message);
  }
  const state = Object.freeze({ maintenance, drained: sortedUnique(drained) });
  // Written back, the state must fit too: a text under the limit can grow (bypass addresses
  // gain their `/32`, left-out keys their defaults), and one that cannot be written would
  // stop the router from starting (and every change) instead of being ignored.
  try {
    encodeState(state);
  } catch (err) {
    if (!(err instanceof StateError)) throw err;
    throw new StateError(
      "too_large",
      `${where}: the state is over ${MAX_STATE_BYTES} bytes as written back`,
    );
  }
  return state;
}

/** Sorted, without duplicates, frozen. */
export function sortedUnique(keys: readonly string[]): readonly string[] {
  return Object.freeze([...new Set(keys)].sort());
}
