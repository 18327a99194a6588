/**
 * Plugins: the chain that lets configured plugins deny a player, re-route them or attach
 * referral content (docs/plugins.md), over two transports — in-process WASM and out-of-process
 * gRPC.
 *
 * @module
 */

/** The ordered chain and its apply semantics; `loadChain` builds one from config. */
export { applyResponse, loadChain, PluginChain } from "./chain.ts";
export type {
  CallObserver,
  ChainLink,
  ChainOutcome,
  ReuseTransport,
  TransportFactory,
} from "./chain.ts";
/** The ConnectRequest/ConnectResponse JSON codec (the Go router's exact shapes). */
export { decodeResponse, encodeRequest, MAX_RESPONSE_BYTES, MAX_RESPONSE_VALUES } from "./codec.ts";
export type { ChainState, PluginResponse, ResponseBackend } from "./codec.ts";
/** The transport contract every plugin implementation fulfils. */
export { PluginError } from "./transport.ts";
export type { PluginTransport } from "./transport.ts";
/** Builds transports for configured plugins. */
export { defaultTransportFactory } from "./factory.ts";
/**
 * The hidden command with which the bundle runs as a WASM plugin's child process (`wasm.isolation:
 * process`), and what it runs; the child's code is loaded only when that command runs.
 */
export { CHILD_COMMAND, runChildCommand } from "./wasm/process_command.ts";
