/**
 * The in-process WASM plugin host (docs/plugins.md §5 "WASM plugins"): loader, WASI preview1
 * layer, load-time rewriting (deadline checks, memory cap), sandboxed worker pool, circuit breaker.
 *
 * @module
 */

export {
  /** Loads, validates and starts a WASM plugin; the result is a `PluginTransport`. */
  loadWasmPlugin,
  /** Checks the sha256 pin, validates and rewrites a module without starting workers. */
  prepareModule,
} from "./load.ts";
export type {
  /** Options of `loadWasmPlugin`. */
  WasmPluginOptions,
} from "./load.ts";
export type {
  /** A module that passed every load-time check. */
  PreparedModule,
  /** The load-time checks' settings (`prepareModule`'s options besides the name). */
  PrepareOptions,
} from "./prepare.ts";
export type {
  /** One export of a module, as the loader read it. */
  ExportInfo,
  /** A function signature. */
  FuncType,
  /** One import of a module, as the loader read it. */
  ImportInfo,
  /** What the loader learnt about a module (`PreparedModule.info`). */
  ModuleInfo,
  /** A WebAssembly value type. */
  ValType,
} from "./rewriter.ts";
export type {
  /** Thresholds and clock of a plugin's circuit breaker (`WasmPluginOptions.breaker`). */
  BreakerOptions,
} from "./breaker.ts";
export {
  /**
   * Runs a module on the calling thread with no isolation and no instrumentation — only for the
   * benchmark's baseline and diagnostics; never for serving connections.
   */
  instantiateUnisolated,
} from "./unisolated.ts";
export type {
  /** What `instantiateUnisolated` returns. */
  UnisolatedPlugin,
} from "./unisolated.ts";
export {
  /** `plugin:test`: runs one module against a sample ConnectRequest. */
  runPluginTest,
  /** The sample ConnectRequest `plugin:test` sends by default (also used by the benchmark). */
  SAMPLE_REQUEST,
} from "./plugin_test_cli.ts";
export type {
  /** The I/O `runPluginTest` uses; tests inject it. */
  PluginTestIo,
} from "./plugin_test_cli.ts";
