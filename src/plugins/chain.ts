import type { Backend, FailurePolicy, PluginConfig } from "../config/mod.ts";
import type { Logger } from "../observability/mod.ts";
import type { ConnectEvent } from "../protocol/mod.ts";
import { type ChainState, decodeResponse, encodeRequest, type PluginResponse } from "./codec.ts";
import {
  type CallOptions,
  type ConnectCall,
  type ConnectContext,
  type ConnectionEnd,
  PluginError,
  type PluginTransport,
} from "./transport.ts";
import { Watchdog } from "./watchdog.ts";

/** One plugin in the chain: its transport and how to treat its failures. */
export interface ChainLink {
  /** Carries the plugin's calls. */
  readonly transport: PluginTransport;
  /** The plugin's per-call deadline. */
  readonly timeoutMs: number;
  /** Whether a failed call denies the player or is skipped. */
  readonly failurePolicy: FailurePolicy;
}

/** How the chain ended. */
export type ChainOutcome =
  | { readonly kind: "continue"; readonly state: ChainState }
  /** `plugin` denied; `reason` is its deny_reason (or `null` when a failure policy denied). */
  | { readonly kind: "deny"; readonly plugin: string; readonly reason: string | null };

/** What one plugin did in one `apply`: for decision records and explain. */
export interface PluginVerdict {
  /** The plugin's configured name. */
  readonly plugin: string;
  /**
   * `continue`: answered without denying; `deny`: denied (its own or, with `error`, by failure
   * policy); `error`: the call failed and was skipped; `skipped`: not called (a plugin before
   * it denied).
   */
  readonly verdict: "continue" | "deny" | "error" | "skipped";
  /** How long the call took (0 when skipped). */
  readonly ms: number;
  /** The failure (`timeout: no answer within 50 ms`), when the call failed. */
  readonly error?: string;
  /** The plugin's answer, when it gave one. */
  readonly answer?: PluginResponse;
}

/** Observes each call (metrics, tests). */
export type CallObserver = (plugin: string, ms: number, error: PluginError | null) => void;

/**
 * The ordered plugins of one config and the seven-step apply semantics of docs/plugins.md §2.
 * Stateless per connection: `apply` may run for many connections at once.
 */
export class PluginChain {
  readonly #links: readonly ChainLink[];
  readonly #logger: Logger;
  readonly #observe: CallObserver;
  // The backstops of every link's calls.
  readonly #watchdog = new Watchdog();
  readonly #hearsEnds: boolean;

  /** `links` in execution order; `logger` gets a warning per failed call. */
  constructor(links: readonly ChainLink[], logger: Logger, observe: CallObserver = () => {}) {
    this.#links = links;
    this.#logger = logger;
    this.#observe = observe;
    this.#hearsEnds = links.some((l) => l.transport.connectionEnded !== undefined);
  }

  /** The plugins' transports in execution order (a reload diffs them to close removed ones). */
  get transports(): readonly PluginTransport[] {
    return this.#links.map((l) => l.transport);
  }

  /** Whether any plugin hears how connections end (the pipeline skips telling it otherwise). */
  get hearsEnds(): boolean {
    return this.#hearsEnds;
  }

  /** Whether any plugin is configured (the pipeline skips the chain otherwise). */
  get empty(): boolean {
    return this.#links.length === 0;
  }

  /**
   * Runs every plugin in order over `state`. `context` reaches only transports that take
   * structured calls (the JSON ConnectRequest has no room for it). When `verdicts` is given,
   * one entry per plugin is appended to it, in order. `observed: false` keeps the calls from
   * the observer (explain's calls are not counted in the metrics). Never throws.
   */
  async apply(
    sni: string,
    event: ConnectEvent,
    initial: ChainState,
    context: ConnectContext = NO_CONTEXT,
    verdicts?: PluginVerdict[],
    observed = true,
  ): Promise<ChainOutcome> {
    let state = initial;
    for (let i = 0; i < this.#links.length; i++) {
      const link = this.#links[i]!;
      const plugin = link.transport.name;
      const started = verdicts === undefined ? 0 : performance.now();
      const response = await this.#call(link, { ...context, sni, event, state }, observed);
      const ms = verdicts === undefined ? 0 : performance.now() - started;
      if (response instanceof PluginError) {
        const deny = link.failurePolicy === "deny";
        const error = `${response.kind}: ${response.message}`;
        verdicts?.push({ plugin, verdict: deny ? "deny" : "error", ms, error });
        if (deny) return this.#denied(plugin, null, i, verdicts);
        continue;
      }
      verdicts?.push({
        plugin,
        verdict: response.deny ? "deny" : "continue",
        ms,
        answer: response,
      });
      if (response.deny) return this.#denied(plugin, response.denyReason, i, verdicts);
      state = applyResponse(state, response);
    }
    return { kind: "continue", state };
  }

  // The plugins after the one at `index` are not called; their verdicts say so.
  #denied(
    plugin: string,
    reason: string | null,
    index: number,
    verdicts: PluginVerdict[] | undefined,
  ): ChainOutcome {
    if (verdicts !== undefined) {
      for (const link of this.#links.slice(index + 1)) {
        verdicts.push({ plugin: link.transport.name, verdict: "skipped", ms: 0 });
      }
    }
    return { kind: "deny", plugin, reason };
  }

  /**
   * Tells every plugin that listens how a connection ended (once the player has their reply).
   * Returns at once; a listener that throws is logged, never propagated.
   */
  connectionEnded(end: ConnectionEnd): void {
    for (const { transport } of this.#links) {
      if (!transport.connectionEnded) continue;
      try {
        transport.connectionEnded(end);
      } catch (err) {
        this.#logger.warn("plugin connection-end hook failed", {
          plugin: transport.name,
          error: err instanceof Error ? err.message : String(err),
        });
      }
    }
  }

  /** Closes every plugin. */
  async close(): Promise<void> {
    this.#watchdog.close();
    await Promise.allSettled(this.#links.map((l) => l.transport.close()));
  }

  async #call(
    link: ChainLink,
    call: ConnectCall,
    observed: boolean,
  ): Promise<PluginResponse | PluginError> {
    const { transport, timeoutMs } = link;
    const { name } = transport;
    const started = performance.now();
    try {
      const response = await this.#send(transport, call, timeoutMs, observed);
      if (observed) this.#observe(name, performance.now() - started, null);
      return response;
    } catch (err) {
      const error = err instanceof PluginError
        ? err
        : new PluginError(name, "trap", err instanceof Error ? err.message : String(err));
      if (observed) this.#observe(name, performance.now() - started, error);
      this.#logger.warn("plugin call failed", {
        plugin: name,
        kind: error.kind,
        error: error.message,
        policy: link.failurePolicy,
      });
      return error;
    }
  }

  // Structured transports decode their own answer; the others carry the JSON documents.
  async #send(
    t: PluginTransport,
    call: ConnectCall,
    timeoutMs: number,
    observed: boolean,
  ): Promise<PluginResponse> {
    const guardMs = timeoutMs + GUARD_MARGIN_MS;
    // Only a diagnostic call passes options: the players' calls keep the shorter path.
    const options = observed ? undefined : UNOBSERVED;
    if (t.connect) {
      return await guard(t.connect(call, timeoutMs, options), this.#watchdog, guardMs, t.name);
    }
    const request = encodeRequest(call.sni, call.event, call.state);
    const bytes = await guard(t.call(request, timeoutMs, options), this.#watchdog, guardMs, t.name);
    return decodeResponse(bytes, t.name);
  }
}

/**
 * Transports enforce their own deadline; this guard is the chain's backstop so that a bug in a
 * transport can never leave a client waiting (it fires only if the transport did not).
 */
const GUARD_MARGIN_MS = 250;

const UNOBSERVED: CallOptions = { observed: false };

// Races `call` against an alarm of the chain's watchdog (one timer for every call, not one per
// call: a setTimeout/clearTimeout pair per call was ~3 µs of the router's CPU).
function guard<T>(
  call: Promise<T>,
  watchdog: Watchdog,
  ms: number,
  plugin: string,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const alarm = watchdog.arm(
      ms,
      () => reject(new PluginError(plugin, "timeout", `no answer within ${ms} ms (chain guard)`)),
    );
    call.then((value) => {
      alarm.clear();
      resolve(value);
    }, (err) => {
      alarm.clear();
      reject(err);
    });
  });
}

/** No client address or route: callers that have none (tests, tools). */
const NO_CONTEXT: ConnectContext = { client: "", route: null };

/** Steps 3–7 of docs/plugins.md §2 "Chain semantics" for one successful, non-deny response. */
export function applyResponse(state: ChainState, r: PluginResponse): ChainState {
  let candidates: readonly Backend[] = state.candidates;
  let selectedIndex = state.selectedIndex;
  let backend = state.backend;
  if (r.candidates && r.candidates.length > 0) candidates = r.candidates;
  if (r.selectedIndex !== null && r.selectedIndex >= 0 && r.selectedIndex < candidates.length) {
    selectedIndex = r.selectedIndex;
    backend = candidates[selectedIndex]!;
  }
  if (r.backend) {
    backend = r.backend;
    const match = candidates.findIndex((c) =>
      c.host === r.backend!.host && c.port === r.backend!.port
    );
    if (match >= 0) selectedIndex = match;
  }
  if ((!backend || backend.host === "") && candidates.length > 0) {
    selectedIndex = 0;
    backend = candidates[0]!;
  }
  return {
    strategy: state.strategy,
    candidates,
    selectedIndex,
    backend,
    referralContent: r.referralContent ?? state.referralContent,
  };
}

/** Makes one plugin's transport from its config (wired to the WASM host or gRPC client). */
export type TransportFactory = (config: PluginConfig, logger: Logger) => Promise<PluginTransport>;

/**
 * A transport already running for a plugin with this config (a reload keeps it instead of
 * loading the plugin again), or `undefined` to load it.
 */
export type ReuseTransport = (config: PluginConfig) => PluginTransport | undefined;

/**
 * Loads every configured plugin (already in execution order) into a chain. A plugin that
 * cannot load stops the whole load with a `PluginError` naming it; those loaded so far are
 * closed again (reused ones are left running: they belong to the chain they came from).
 */
export async function loadChain(
  configs: readonly PluginConfig[],
  factory: TransportFactory,
  logger: Logger,
  observe?: CallObserver,
  reuse?: ReuseTransport,
): Promise<PluginChain> {
  const links: ChainLink[] = [];
  const loaded: PluginTransport[] = [];
  try {
    for (const config of configs) {
      let transport = reuse?.(config);
      if (!transport) {
        transport = await factory(config, logger.with({ plugin: config.name }));
        loaded.push(transport);
      }
      links.push({ transport, timeoutMs: config.timeoutMs, failurePolicy: config.failurePolicy });
    }
  } catch (err) {
    await Promise.allSettled(loaded.map((t) => t.close()));
    if (err instanceof PluginError) throw err;
    const name = configs[links.length]?.name ?? "?";
    throw new PluginError(name, "load", err instanceof Error ? err.message : String(err), {
      cause: err,
    });
  }
  return new PluginChain(links, logger, observe);
}
