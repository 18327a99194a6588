import type { Config } from "../config/mod.ts";
import { ConfigMapApi, type ConfigMapApiOptions } from "../discovery/mod.ts";
import type { Logger } from "../observability/mod.ts";
import { ConfigMapStore } from "./config_map_store.ts";
import { ConsoleControls } from "./controls.ts";
import { StateError } from "./errors.ts";
import { FileStore } from "./file_store.ts";
import { MemoryStore } from "./memory_store.ts";
import { type ConsoleState, EMPTY_STATE } from "./state.ts";
import type { StateStore } from "./store.ts";

/** Options of {@link openControls}. */
export interface OpenControlsOptions {
  /** Where the controls and their store log. */
  readonly logger: Logger;
  /** How `admin.state_config_map` connects (tests: the fake API server's connection). */
  readonly kube?: ConfigMapApiOptions;
  /** How often `admin.state_file` is checked for other writers (default 1 s). */
  readonly pollMs?: number;
}

/**
 * Opens the store the config names — `admin.state_config_map` (shared by replicas),
 * `admin.state_file` (one host), else memory (this process only) — and loads the stored state,
 * so the router serves with it from its first connection. A store that cannot be read now
 * (the API server down) is logged and the controls start from the config's settings; its watch
 * applies the stored state once it can be read.
 *
 * @throws {KubeConfigError} the ConfigMap's kubeconfig or in-cluster environment is unusable.
 */
export async function openControls(
  config: Config,
  options: OpenControlsOptions,
): Promise<ConsoleControls> {
  const { logger } = options;
  const store = await openStore(config, options);
  let initial: ConsoleState = EMPTY_STATE;
  try {
    initial = await store.load();
  } catch (err) {
    if (!(err instanceof StateError)) throw err;
    logger.error("cannot read the runtime state; starting from the config", {
      store: store.where,
      error: err.message,
    });
  }
  logger.info("runtime state", {
    store: store.kind,
    shared: store.shared,
    where: store.where,
    maintenance: initial.maintenance === null ? "config" : "api",
    drained: initial.drained.length,
  });
  return new ConsoleControls(store, config.maintenance, initial, logger);
}

async function openStore(config: Config, options: OpenControlsOptions): Promise<StateStore> {
  const { stateConfigMap, stateFile } = config.admin;
  if (stateConfigMap !== null) {
    const api = await ConfigMapApi.open(stateConfigMap.kubeconfig, stateConfigMap, options.kube);
    return new ConfigMapStore(api, options.logger);
  }
  if (stateFile !== null) {
    return new FileStore(stateFile, {
      logger: options.logger,
      ...(options.pollMs === undefined ? {} : { pollMs: options.pollMs }),
    });
  }
  return new MemoryStore();
}

/** Whether two configs name different state stores (which only a restart can switch to). */
export function storeSettingsChanged(a: Config, b: Config): boolean {
  return JSON.stringify([a.admin.stateFile, a.admin.stateConfigMap]) !==
    JSON.stringify([b.admin.stateFile, b.admin.stateConfigMap]);
}
