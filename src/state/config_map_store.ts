import { ConfigMapApi, type ConfigMapObject } from "../discovery/mod.ts";
import type { Logger } from "../observability/mod.ts";
import { backoffDelay } from "../timing/mod.ts";
import { StateError } from "./errors.ts";
import { type ConsoleState, decodeState, EMPTY_STATE, encodeState } from "./state.ts";
import type { StateStore } from "./store.ts";

/** The ConfigMap `data` key holding the state's JSON. */
export const STATE_KEY = "state.json";

/** Bounded retries of a write that keeps meeting other writers' changes (409). */
const MAX_ATTEMPTS = 10;
/** The pause before retry n: uniform below `10 ms · 2^(n-1)`, that ceiling at most 500 ms. */
const RETRY_BACKOFF = { initialMs: 10, maxMs: 500, jitter: "full" } as const;

/**
 * The state in one ConfigMap (`admin.state_config_map`), shared by every replica: each watches
 * it (an informer: list, watch, re-list with back-off when the watch breaks) and the API of any
 * replica writes it. Writes are optimistic: read, change, replace naming the `resourceVersion`
 * read; on 409 (another replica wrote first) read again and re-apply the change, so no replica's
 * change is lost. A ConfigMap whose state is unusable is logged and treated as empty.
 */
export class ConfigMapStore implements StateStore {
  readonly kind = "config_map";
  readonly shared = true;
  readonly where: string;
  readonly #api: ConfigMapApi;
  readonly #logger: Logger;
  readonly #listeners = new Set<(state: ConsoleState) => void>();
  #stopWatch: (() => void) | null = null;
  /** The state text last read or written here: a watch event carrying it is no news. */
  #lastText: string | null = null;
  #badText: string | null = null;
  /** Texts being written here: their watch events may come before the write's answer. */
  readonly #writing = new Map<string, number>();

  /** Wraps an opened {@link ConfigMapApi}; the store closes it. */
  constructor(api: ConfigMapApi, logger: Logger) {
    this.#api = api;
    this.#logger = logger;
    this.where = api.where;
  }

  async load(): Promise<ConsoleState> {
    return this.#decode(await this.#get()) ?? EMPTY_STATE;
  }

  async save(state: ConsoleState): Promise<void> {
    await this.update(() => state);
  }

  async update(change: (current: ConsoleState) => ConsoleState): Promise<ConsoleState> {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const current = await this.#get();
      const next = change(this.#decode(current) ?? EMPTY_STATE);
      const text = encodeState(next);
      const data = { ...stringData(current), [STATE_KEY]: text };
      const rv = current?.metadata?.resourceVersion;
      this.#writing.set(text, (this.#writing.get(text) ?? 0) + 1);
      let written: ConfigMapObject | string;
      try {
        written = await this.#call(() =>
          current === null || rv === undefined
            ? this.#api.create(data)
            : this.#api.replace(data, rv)
        );
      } finally {
        const left = (this.#writing.get(text) ?? 1) - 1;
        if (left === 0) this.#writing.delete(text);
        else this.#writing.set(text, left);
      }
      if (typeof written !== "string") {
        this.#lastText = text;
        return next;
      }
      this.#logger.debug("runtime state changed meanwhile, retrying", {
        store: this.where,
        attempt,
        reason: written,
      });
      if (attempt === MAX_ATTEMPTS) break; // no pause before giving up
      await new Promise((r) => setTimeout(r, backoffDelay(RETRY_BACKOFF, attempt)));
    }
    throw new StateError(
      "conflict",
      `${this.where}: other writers kept changing it; gave up after ${MAX_ATTEMPTS} attempts`,
    );
  }

  watch(listener: (state: ConsoleState) => void): () => void {
    this.#listeners.add(listener);
    this.#stopWatch ??= this.#api.watch((configMap) => this.#changed(configMap), this.#logger);
    return () => void this.#listeners.delete(listener);
  }

  close(): Promise<void> {
    this.#stopWatch?.();
    this.#stopWatch = null;
    this.#listeners.clear();
    this.#api.close();
    return Promise.resolve();
  }

  #changed(configMap: ConfigMapObject | null): void {
    const text = textOf(configMap);
    if (text === this.#lastText) return;
    if (text !== null && this.#writing.has(text)) {
      this.#lastText = text; // this store's own write, seen before its answer
      return;
    }
    const state = configMap === null ? EMPTY_STATE : this.#decode(configMap);
    if (state === null) return;
    this.#lastText = text;
    for (const listener of [...this.#listeners]) listener(state);
  }

  async #get(): Promise<ConfigMapObject | null> {
    return await this.#call(() => this.#api.get());
  }

  async #call<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new StateError("store", `${this.where}: ${reason}`);
    }
  }

  /** The stored state; `null` when unusable (logged once per distinct text). */
  #decode(configMap: ConfigMapObject | null): ConsoleState | null {
    const text = textOf(configMap);
    if (text === null) return EMPTY_STATE;
    try {
      const state = decodeState(text, this.where);
      this.#lastText = text;
      return state;
    } catch (err) {
      if (!(err instanceof StateError)) throw err;
      if (this.#badText !== text) {
        this.#badText = text;
        this.#logger.warn("ignoring the stored runtime state", { error: err.message });
      }
      return null;
    }
  }
}

/** The state text of a ConfigMap, or `null` when it has none. */
function textOf(configMap: ConfigMapObject | null): string | null {
  const value = configMap?.data?.[STATE_KEY];
  return typeof value === "string" ? value : null;
}

/** The ConfigMap's other entries, kept as they are on a replace. */
function stringData(configMap: ConfigMapObject | null): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(configMap?.data ?? {})) {
    if (typeof v === "string") out[k] = v;
  }
  return out;
}
