/**
 * Loading a WASM plugin: read, check the sha256 pin, validate imports and exports, rewrite
 * (deadline checks + memory cap), compile, then start the worker pool — every step's failure is
 * a `PluginError` of kind `load` naming the plugin and the problem.
 */

import type { WasmIsolation } from "../../config/mod.ts";
import type { Logger } from "../../observability/mod.ts";
import { PluginError, type PluginTransport } from "../transport.ts";
import type { BreakerOptions } from "./breaker.ts";
import { WasmHost } from "./host.ts";
import { DEFAULT_MAX_MODULE_BYTES, formatBytes, moduleSizeProblem } from "./limits.ts";
import { type FuncType, instrumentModule, type ModuleInfo, RewriteError } from "./rewriter.ts";
import { importProblem } from "./wasi.ts";

/** Options of {@link loadWasmPlugin}. */
export interface WasmPluginOptions {
  /** The configured plugin name. */
  readonly name: string;
  /** Path of the `.wasm` file. */
  readonly path: string;
  /** `wasm.sha256` (hex), or null when not pinned. */
  readonly sha256: string | null;
  /** `wasm.config` as a JSON value (`{}` when unset). */
  readonly config: unknown;
  /** `wasm.max_memory` in bytes: all the module's memories together. */
  readonly maxMemoryBytes: number;
  /** `wasm.max_table_elements`: all the module's tables together (default 65,536). */
  readonly maxTableElements?: number;
  /** `wasm.max_module_size` in bytes (default 32 MiB). */
  readonly maxModuleBytes?: number;
  /** `wasm.isolation` (default `worker`). */
  readonly isolation?: WasmIsolation;
  /** The plugin's per-call `timeout` in ms; also bounds each instance's initialisation. */
  readonly timeoutMs: number;
  /** Instances (= calls that can run at once); default {@link defaultInstances}. */
  readonly instances?: number;
  /** Receives the plugin's log output and the host's warnings. */
  readonly logger: Logger;
  /** Reads the module file (default `Deno.readFile`). */
  readonly readFile?: (path: string) => Promise<Uint8Array>;
  /** Circuit breaker thresholds and clock. */
  readonly breaker?: BreakerOptions;
  /** Initialisation budget per instance, ms (default: max(timeoutMs, 5000)). */
  readonly initTimeoutMs?: number;
  /** Grace after a deadline before a silent worker is terminated, ms (default 1000). */
  readonly terminateGraceMs?: number;
  /** Test seam: a different worker script speaking the same protocol. */
  readonly workerUrl?: URL;
}

/** A module that passed every load-time check, ready to be instantiated. */
export interface PreparedModule {
  /** The rewritten module, compiled. */
  readonly module: WebAssembly.Module;
  /** What the loader learnt about the original module. */
  readonly info: ModuleInfo;
}

const SIGNATURES: Readonly<Record<string, { want: string; required: boolean }>> = {
  alloc: { want: "(i32) -> (i32)", required: true },
  on_connect: { want: "(i32,i32) -> (i64)", required: true },
  init: { want: "(i32,i32) -> (i32)", required: false },
  free: { want: "(i32,i32) -> ()", required: false },
};

/**
 * Loads, validates and starts a WASM plugin (PLUGINS.md "WASM plugins"). Resolves once every
 * instance has run `_initialize` and `init`; rejects with a `PluginError` of kind `load`.
 */
export async function loadWasmPlugin(options: WasmPluginOptions): Promise<PluginTransport> {
  const fail = (message: string, cause?: unknown) =>
    new PluginError(options.name, "load", message, cause === undefined ? undefined : { cause });
  const maxBytes = options.maxModuleBytes ?? DEFAULT_MAX_MODULE_BYTES;
  let bytes: Uint8Array;
  try {
    // An injected reader returns the whole file; prepareModule checks its length.
    bytes = options.readFile
      ? await options.readFile(options.path)
      : await readBounded(options.path, maxBytes);
  } catch (e) {
    if (e instanceof ModuleTooLarge) throw fail(`${options.path}: ${e.message}`);
    throw fail(`cannot read module ${options.path}: ${(e as Error).message}`, e);
  }
  const prepared = await prepareModule(bytes, options).catch((e) => {
    throw e instanceof PluginError ? e : fail(String(e), e);
  });
  const host = new WasmHost({
    name: options.name,
    module: prepared.module,
    config: new TextEncoder().encode(JSON.stringify(options.config ?? {})),
    instances: options.instances ?? defaultInstances(),
    initTimeoutMs: options.initTimeoutMs ?? Math.max(options.timeoutMs, 5000),
    terminateGraceMs: options.terminateGraceMs ?? 1000,
    logger: options.logger,
    breaker: options.breaker ?? {},
    ...(options.workerUrl ? { workerUrl: options.workerUrl } : {}),
  });
  try {
    await host.start();
  } catch (e) {
    await host.close();
    throw e instanceof PluginError ? e : fail(String(e), e);
  }
  return host;
}

/** The module file is over `max_module_size` (found before or while reading it). */
class ModuleTooLarge extends Error {
  override readonly name = "ModuleTooLarge";
}

/**
 * Reads the module file, but never more than `maxBytes` + 1 bytes: the size is checked (on the
 * open file, so it is the file that is read) before reading, and the read stops past the cap
 * in case the file grows meanwhile or is not a regular file (a FIFO or device reports size 0).
 */
async function readBounded(path: string, maxBytes: number): Promise<Uint8Array> {
  using file = await Deno.open(path);
  const { size } = await file.stat();
  const problem = moduleSizeProblem(size, maxBytes);
  if (problem !== null) throw new ModuleTooLarge(problem);
  let buffer = new Uint8Array(size + 1);
  let length = 0;
  for (;;) {
    if (length === buffer.length) {
      if (length > maxBytes) {
        throw new ModuleTooLarge(`module is over max_module_size (${formatBytes(maxBytes)})`);
      }
      const next = new Uint8Array(Math.min(maxBytes + 1, length * 2));
      next.set(buffer);
      buffer = next;
    }
    const n = await file.read(buffer.subarray(length));
    if (n === null) return buffer.subarray(0, length);
    length += n;
  }
}

/**
 * Workers per plugin unless configured: 4, but no more than the machine has cores, and at least
 * 2 so that one slow call never holds up the rest. Each worker queues up to 8 calls, so more
 * workers than cores add no throughput, only threads competing with the router's: on 2 cores
 * the benchmark measured the C example at 121k calls/s with 2 workers, 93k with 4.
 */
export function defaultInstances(): number {
  return Math.max(2, Math.min(4, navigator.hardwareConcurrency));
}

/**
 * Checks the pin, validates and rewrites `bytes`; used by {@link loadWasmPlugin} and by
 * tooling that wants the checks without starting workers.
 */
export async function prepareModule(
  bytes: Uint8Array,
  options: Pick<
    WasmPluginOptions,
    "name" | "path" | "sha256" | "maxMemoryBytes" | "maxTableElements" | "maxModuleBytes"
  >,
): Promise<PreparedModule> {
  const fail = (message: string) => new PluginError(options.name, "load", message);
  // Before anything reads the bytes (hashing a huge module is work too).
  const tooLarge = moduleSizeProblem(
    bytes.length,
    options.maxModuleBytes ?? DEFAULT_MAX_MODULE_BYTES,
  );
  if (tooLarge !== null) throw fail(`${options.path}: ${tooLarge}`);
  if (options.sha256 !== null) {
    const digest = await sha256Hex(bytes);
    if (digest !== options.sha256.toLowerCase()) {
      throw fail(`${options.path}: sha256 is ${digest}, but wasm.sha256 pins ${options.sha256}`);
    }
  }
  if (!WebAssembly.validate(bytes as Uint8Array<ArrayBuffer>)) {
    throw fail(`${options.path} is not a valid WebAssembly module`);
  }
  const maxPages = Math.floor(options.maxMemoryBytes / 65536);
  let rewritten: { bytes: Uint8Array; info: ModuleInfo };
  try {
    rewritten = instrumentModule(bytes, {
      maxPages,
      ...(options.maxTableElements === undefined
        ? {}
        : { maxTableElements: options.maxTableElements }),
    });
  } catch (e) {
    if (e instanceof RewriteError) throw fail(`${options.path}: ${e.message}`);
    throw e;
  }
  const problem = moduleProblem(rewritten.info);
  if (problem !== null) throw fail(`${options.path}: ${problem}`);
  let module: WebAssembly.Module;
  try {
    module = await WebAssembly.compile(rewritten.bytes as Uint8Array<ArrayBuffer>);
  } catch (e) {
    throw fail(`${options.path}: instrumented module does not compile: ${(e as Error).message}`);
  }
  return { module, info: rewritten.info };
}

/** The first reason the module cannot serve as a plugin, or null. */
function moduleProblem(info: ModuleInfo): string | null {
  if (info.exports.has("_start")) {
    return "is a WASI command module (exports _start); build it as a reactor " +
      "(clang -mexec-model=reactor, Go -buildmode=c-shared, Rust cdylib)";
  }
  for (const imp of info.imports) {
    const problem = importProblem(imp);
    if (problem !== null) return problem;
  }
  const memory = info.exports.get("memory");
  if (memory?.kind !== "memory") return 'does not export its linear memory as "memory"';
  for (const [name, { want, required }] of Object.entries(SIGNATURES)) {
    const ex = info.exports.get(name);
    if (ex === undefined) {
      if (required) return `does not export required function "${name}" ${want}`;
      continue;
    }
    const got = ex.type ? signature(ex.type) : ex.kind;
    if (got !== want) return `export "${name}" is ${got}, want ${want}`;
  }
  return null;
}

function signature(t: FuncType): string {
  return `(${t.params.join(",")}) -> (${t.results.join(",")})`;
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}
