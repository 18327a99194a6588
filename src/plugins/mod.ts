/**
 * Plugins: the chain that lets configured plugins deny a player, re-route them or attach
 * referral content (docs/plugins.md), over two transports — in-process WASM and out-of-process
 * gRPC.
 *
 * @module
 */

/** The ordered chain and its apply semantics; `loadChain` builds one from config. */
export { loadChain, PluginChain } from "./chain.ts";
export type {
  CallObserver,
  ChainLink,
  ChainOutcome,
  PluginVerdict,
  ReuseTransport,
  TransportFactory,
} from "./chain.ts";
/** What the chain carries from plugin to plugin (docs/plugins.md §2 "Chain semantics"). */
export type { ChainState } from "./codec.ts";
/** A decoded plugin answer, as the chain applies it (what structured transports return). */
export type { PluginResponse, ResponseBackend } from "./codec.ts";
/** The transport contract every plugin implementation fulfils, and how a call fails. */
export { PluginError } from "./transport.ts";
export type {
  CallOptions,
  ConnectCall,
  ConnectContext,
  ConnectionEnd,
  PluginTransport,
  PushedTargets,
} from "./transport.ts";
/** Builds transports for configured plugins. */
export { defaultTransportFactory } from "./factory.ts";
/**
 * The hidden command with which the bundle runs as a WASM plugin's child process (`wasm.isolation:
 * process`), and what it runs; the child's code is loaded only when that command runs.
 */
export { CHILD_COMMAND, runChildCommand } from "./wasm/process_command.ts";
