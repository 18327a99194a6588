/**
 * The contract between the plugin chain and a plugin transport (in-process WASM, out-of-process
 * gRPC). A transport moves one ConnectRequest JSON document to the plugin and its
 * ConnectResponse JSON document back; the chain owns encoding, decoding and semantics
 * (docs/plugins.md §1, §2), so every transport is held to the same behaviour.
 */

import type { PluginErrorKind } from "../observability/mod.ts";

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
  call(request: Uint8Array, timeoutMs: number): Promise<Uint8Array>;
  /**
   * Whether a circuit breaker is skipping this plugin's calls right now (open or half-open);
   * absent when the transport has no breaker. Read at every metrics scrape.
   */
  readonly circuitOpen?: boolean;
  /**
   * Workers (or child processes) given up so far because they stayed silent past a call's
   * deadline plus a grace period; absent when the transport has none. Read at every scrape.
   */
  readonly abandonedWorkers?: number;
  /** Releases everything the plugin holds (workers, connections). Idempotent. */
  close(): Promise<void>;
}
