import { type Config, type MaintenanceConfig, maintenanceJson } from "../config/mod.ts";
import type { Logger } from "../observability/mod.ts";
import { parseBackendKey } from "./backend_key.ts";
import { StateError } from "./errors.ts";
import { MaintenanceGate, type MaintenanceSource } from "./maintenance_gate.ts";
import { type ConsoleState, encodeState, MAX_DRAINED, sortedUnique } from "./state.ts";
import type { StateStore, StoreKind } from "./store.ts";

/** The maintenance setting in force, as the admin API shows it. */
export interface MaintenanceView {
  /** Whether players who are not bypassed are turned away. */
  readonly enabled: boolean;
  /** The text when no locale applies. */
  readonly message: string;
  /** Locale key → text. */
  readonly message_locales: Readonly<Record<string, string>>;
  /** Usernames, UUIDs and CIDRs, as stored (UUIDs lower case, CIDRs canonical). */
  readonly bypass: readonly string[];
  /** `config` (the file's section) or `api` (set at run time). */
  readonly source: MaintenanceSource;
}

/** The runtime state in force, as the admin API and its `state` event show it. */
export interface ControlsView {
  /** Maintenance in force. */
  readonly maintenance: MaintenanceView;
  /** Drained backends, `host:port`, sorted. */
  readonly drained: readonly string[];
}

/** Where the controls keep their state, as `GET /api/v1/status` shows it. */
export interface StoreInfo {
  /** Which store. */
  readonly store: StoreKind;
  /** Whether other replicas or processes see it. */
  readonly shared: boolean;
  /** Its file path or ConfigMap. */
  readonly where: string;
}

/**
 * The operator's runtime switches in force — maintenance mode and drained backends — read by
 * the router on every connection (`maintenance` and `drained` are fields, compiled when they
 * change) and changed by the admin API. Every change is stored first (through the
 * {@link StateStore}, so other replicas see it and it survives restarts) and applied after;
 * changes other replicas store arrive through the store's watch and apply the same way.
 */
export class ConsoleControls {
  readonly #store: StateStore;
  readonly #logger: Logger;
  readonly #listeners = new Set<(view: ControlsView) => void>();
  readonly #unwatch: () => void;
  #configMaintenance: MaintenanceConfig;
  #state: ConsoleState;
  #text: string;
  #gate: MaintenanceGate;
  #drained: ReadonlySet<string>;
  #queue: Promise<unknown> = Promise.resolve();

  /** Applies `initial` (the stored state) over the config's `maintenance`, and starts watching. */
  constructor(
    store: StateStore,
    configMaintenance: MaintenanceConfig,
    initial: ConsoleState,
    logger: Logger,
  ) {
    this.#store = store;
    this.#logger = logger;
    this.#configMaintenance = configMaintenance;
    this.#state = initial;
    this.#text = encodeState(initial);
    this.#gate = this.#compile();
    this.#drained = new Set(initial.drained);
    this.#unwatch = store.watch((state) => {
      logger.info("runtime state changed by another replica", summary(state));
      this.#apply(state);
    });
  }

  /** Maintenance mode in force (compiled; cheap to read per connection). */
  get maintenance(): MaintenanceGate {
    return this.#gate;
  }

  /** Backends taken out of new decisions, `host:port`. */
  get drained(): ReadonlySet<string> {
    return this.#drained;
  }

  /** Where the state is kept. */
  get store(): StoreInfo {
    return { store: this.#store.kind, shared: this.#store.shared, where: this.#store.where };
  }

  /**
   * Sets maintenance at run time (`null`: back to the config's setting), stored first.
   *
   * @throws {StateError} when it cannot be stored.
   */
  async setMaintenance(maintenance: MaintenanceConfig | null): Promise<MaintenanceView> {
    await this.#change((s) => ({ ...s, maintenance }));
    return this.view().maintenance;
  }

  /**
   * Drains a backend (`host:port`): no new decision picks it. Returns the drained list.
   *
   * @throws {StateError} `invalid` (naming `backend`) for a bad `host:port`, or a store failure.
   */
  async drain(backend: string): Promise<readonly string[]> {
    const key = parseBackendKey(backend);
    await this.#change((s) => {
      if (s.drained.includes(key)) return s;
      if (s.drained.length >= MAX_DRAINED) {
        throw new StateError(
          "invalid",
          `backend: at most ${MAX_DRAINED} can be drained`,
          "backend",
        );
      }
      return { ...s, drained: sortedUnique([...s.drained, key]) };
    });
    return this.#state.drained;
  }

  /** Undrains a backend; {@link drain}'s rules. Undraining one not drained is no error. */
  async undrain(backend: string): Promise<readonly string[]> {
    const key = parseBackendKey(backend);
    await this.#change((s) => ({ ...s, drained: s.drained.filter((d) => d !== key) }));
    return this.#state.drained;
  }

  /**
   * A reloaded config: its `maintenance` section applies unless the API set one. The store is
   * chosen at start: changed `admin.state_*` settings are logged as needing a restart.
   */
  configChanged(config: Config, storeChanged = false): void {
    if (storeChanged) {
      this.#logger.warn(
        "admin.state_file / admin.state_config_map changed: restart the router to use the " +
          "new store; the runtime state stays where it is",
        { store: this.#store.where },
      );
    }
    if (config.maintenance === this.#configMaintenance) return;
    this.#configMaintenance = config.maintenance;
    this.#gate = this.#compile();
    if (this.#state.maintenance === null) this.#notify();
  }

  /** Calls `listener` with the view after every change, local or remote; returns unsubscribe. */
  subscribe(listener: (view: ControlsView) => void): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  /** The state in force as JSON. */
  view(): ControlsView {
    const gate = this.#gate;
    return {
      maintenance: { ...maintenanceJson(gate.settings), source: gate.source },
      drained: [...this.#state.drained],
    };
  }

  /** Stops watching and closes the store (waits for a change under way). */
  async close(): Promise<void> {
    this.#unwatch();
    await this.#queue.catch(() => {});
    await this.#store.close();
  }

  /** One local change at a time: store it, then apply what was stored. */
  #change(change: (s: ConsoleState) => ConsoleState): Promise<void> {
    const next = this.#queue.then(async () => this.#apply(await this.#store.update(change)));
    this.#queue = next.catch(() => {});
    return next;
  }

  #apply(state: ConsoleState): void {
    const text = encodeState(state);
    if (text === this.#text) return;
    const maintenanceChanged = state.maintenance !== this.#state.maintenance;
    this.#state = state;
    this.#text = text;
    if (maintenanceChanged) this.#gate = this.#compile();
    this.#drained = new Set(state.drained);
    this.#notify();
  }

  #compile(): MaintenanceGate {
    const api = this.#state.maintenance;
    return api === null
      ? new MaintenanceGate(this.#configMaintenance, "config")
      : new MaintenanceGate(api, "api");
  }

  #notify(): void {
    const view = this.view();
    for (const listener of [...this.#listeners]) {
      try {
        listener(view);
      } catch (err) {
        this.#logger.error("runtime state listener failed", {
          error: err instanceof Error ? err.message : String(err),
        });
      }
    }
  }
}

function summary(state: ConsoleState) {
  return {
    maintenance: state.maintenance === null ? "config" : state.maintenance.enabled ? "on" : "off",
    drained: state.drained.length,
  };
}
