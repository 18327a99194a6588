/**
 * The contract between the plugin chain and a plugin transport (in-process WASM, out-of-process
 * gRPC, supervised process). A WASM or gRPC transport moves one ConnectRequest JSON document to
 * the plugin and its ConnectResponse JSON document back; the chain owns encoding, decoding and
 * semantics (docs/plugins.md §1, §2), so every transport is held to the same behaviour. A process
 * plugin speaks msgpack with keys the JSON document has no room for (the client's address, the
 * matched route), so its transport takes the call structured ({@link PluginTransport.connect})
 * and answers with the same decoded {@link PluginResponse} the chain applies for the others.
 */

import type { Backend } from "../config/mod.ts";
import type { PluginErrorKind } from "../observability/mod.ts";
import type { ConnectEvent } from "../protocol/mod.ts";
import type { ChainState, PluginResponse } from "./codec.ts";

/** A plugin failed to load or a call failed. Names the plugin; never shown to a player. */
export class PluginError extends Error {
  /** Fixed, so logs and stack traces name the class. */
  override readonly name = "PluginError";
  /** The plugin's configured name. */
  readonly plugin: string;
  /** `load` for load-time failures, else the call failure kind. */
  readonly kind: PluginErrorKind | "load";

  /** The message is prefixed with `plugin "<name>": `. */
  constructor(
    plugin: string,
    kind: PluginErrorKind | "load",
    message: string,
    options?: ErrorOptions,
  ) {
    super(`plugin "${plugin}": ${message}`, options);
    this.plugin = plugin;
    this.kind = kind;
  }
}

/** What the router knows of one connection beyond the Connect and the chain's state. */
export interface ConnectContext {
  /** The client's address, `ip:port` (`[ip]:port` for IPv6); `""` when unknown. */
  readonly client: string;
  /**
   * The matched route's `match.hostname` and whether it is a glob; `null` for the default pool
   * or when routing found no route.
   */
  readonly route: { readonly hostname: string; readonly glob: boolean } | null;
}

/** One call as a structured transport receives it: what the JSON ConnectRequest holds, and more. */
export interface ConnectCall extends ConnectContext {
  /** The SNI, `""` when the client sent none. */
  readonly sni: string;
  /** The decoded Connect (the SNI-only event when undecodable). */
  readonly event: ConnectEvent;
  /** The chain's state before this plugin. */
  readonly state: ChainState;
}

/** How one connection ended, for transports that hear it (process plugins' `on_disconnect`). */
export interface ConnectionEnd {
  /** The client's address, `ip:port`; `""` when unknown. */
  readonly client: string;
  /** The backend `host:port` the player was referred to; `""` when they were not. */
  readonly target: string;
  /** The connection outcome label (`referral`, `disconnect`, `timeout`, …). */
  readonly outcome: string;
  /** Bytes read from the client's stream. */
  readonly rxBytes: number;
  /** Bytes written to the client's stream. */
  readonly txBytes: number;
  /** The connection's lifetime in the router, milliseconds. */
  readonly durationMs: number;
  /** From the Connect; `""` when unknown. */
  readonly username: string;
  /** From the Connect; `""` when unknown. */
  readonly uuid: string;
}

/**
 * Backend lists a plugin pushes (a process plugin's `set_targets`), by target set id (`route_id`
 * or `action`): what a discovery provider of `type: plugin` reads. The same shape as the
 * discovery folder's `TargetFeed`, declared here so that plugins need not import discovery.
 */
export interface PushedTargets {
  /** The last list pushed for `setId`, or `null` before the first push. Returns at once. */
  targets(setId: string): readonly Backend[] | null;
  /** Pushes for `setId` so far and when the last arrived (`Date.now()` ms), for `/metrics`. */
  pushes(setId: string): { readonly count: number; readonly lastAtMs: number | null };
  /** Calls `listener` after every push (any target set); returns the unsubscribe function. */
  subscribe(listener: () => void): () => void;
}

/** How a call is made, besides its request and deadline. */
export interface CallOptions {
  /**
   * `false` for a diagnostic call (an explain): it leaves no trace in the plugin's health — a
   * circuit breaker neither admits it as a trial nor records its outcome, so an operator's
   * explains cannot open the breaker for players — and it is refused as `unavailable` whenever
   * the breaker is not closed. Default `true`.
   */
  readonly observed?: boolean;
}

/** One loaded plugin, whatever carries its calls. */
export interface PluginTransport {
  /** The configured plugin name (used in every log line and error about it). */
  readonly name: string;
  /**
   * Sends a ConnectRequest JSON document, resolves with the ConnectResponse JSON bytes. Must
   * settle within `timeoutMs` (plus a small scheduling margin), rejecting with a `PluginError`
   * of kind `timeout`; any other failure rejects with a `PluginError` of the fitting kind. Never
   * blocks the caller's thread while the plugin runs.
   */
  call(request: Uint8Array, timeoutMs: number, options?: CallOptions): Promise<Uint8Array>;
  /**
   * The structured form of a call, for transports with an encoding of their own: when present
   * the chain calls this instead of {@link call}, with the same deadline and failure contract,
   * and applies the decoded response exactly as it applies a JSON one.
   */
  connect?(call: ConnectCall, timeoutMs: number, options?: CallOptions): Promise<PluginResponse>;
  /**
   * Hears how a connection ended, once the player has their reply. Must return at once (queue
   * or drop, never block) and never throw.
   */
  connectionEnded?(end: ConnectionEnd): void;
  /**
   * Applies a changed plugin-specific config to the running plugin (a process plugin's
   * `configure`, same process); rejects with a `load` error, the old config kept, when the
   * plugin refuses it. Absent when a config change means loading the plugin again.
   */
  reconfigure?(config: unknown): Promise<void>;
  /** The backend lists this plugin pushes; absent for transports that cannot push. */
  readonly targetFeed?: PushedTargets;
  /**
   * Whether this plugin's calls are skipped right now — failing at once as `unavailable`
   * without reaching the plugin: a circuit breaker open or half-open, or the plugin's server,
   * process or workers down and waiting for a retry; absent when the transport has no such
   * state. Read at every metrics scrape.
   */
  readonly circuitOpen?: boolean;
  /**
   * Workers (or child processes) given up so far because they stayed silent past a call's
   * deadline plus a grace period; absent when the transport has none. Read at every scrape.
   */
  readonly abandonedWorkers?: number;
  /**
   * Processes started again so far after the plugin's process ended (a process plugin, a WASM
   * plugin with `isolation: process`); absent when the transport runs no process. Read at every
   * scrape.
   */
  readonly restarts?: number;
  /**
   * Connection-end notifications dropped so far (queue full, or the send failed); absent when
   * the transport hears no connection ends. Read at every scrape.
   */
  readonly disconnectsDropped?: number;
  /** Releases everything the plugin holds (workers, connections). Idempotent. */
  close(): Promise<void>;
}
