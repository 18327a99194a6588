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
import { ProcessHost } from "./process_host.ts";
import { DEFAULT_MAX_MODULE_BYTES, formatBytes, moduleSizeProblem } from "./limits.ts";
import { checkModule, type PreparedModule, type PrepareOptions } from "./prepare.ts";
import type { PrepareReply, PrepareRequest } from "./protocol.ts";

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
  /** Grace after a deadline before a silent worker is abandoned and replaced, ms (default 1000). */
  readonly terminateGraceMs?: number;
  /** Abandoned workers after which the plugin is switched off until reload (default 4). */
  readonly maxAbandonedWorkers?: number;
  /** Test seam: a different worker script speaking the same protocol. */
  readonly workerUrl?: URL;
}

/**
 * Loads, validates and starts a WASM plugin (docs/plugins.md §5 "WASM plugins"). Resolves once
 * every instance has run `_initialize` and `init`; rejects with a `PluginError` of kind `load`.
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
  const host = options.isolation === "process"
    ? new ProcessHost({
      ...hostSettings(options),
      module: bytes,
      prepare: prepareOptions(options),
      config: JSON.stringify(options.config ?? {}),
    })
    : new WasmHost({
      ...hostSettings(options),
      // Bytes read here are moved to the worker; an injected reader's may be used again.
      module: await prepareOffThread(bytes, options, !options.readFile),
      config: new TextEncoder().encode(JSON.stringify(options.config ?? {})),
      ...(options.maxAbandonedWorkers ? { maxAbandoned: options.maxAbandonedWorkers } : {}),
    });
  try {
    await host.start();
  } catch (e) {
    await host.close();
    throw e instanceof PluginError ? e : fail(String(e), e);
  }
  return host;
}

// What both hosts take alike. (With `isolation: process` the child process checks, rewrites and
// compiles the module itself: parsing the untrusted module happens in the sandbox too.)
function hostSettings(o: WasmPluginOptions) {
  return {
    name: o.name,
    instances: o.instances ?? defaultInstances(),
    initTimeoutMs: o.initTimeoutMs ?? Math.max(o.timeoutMs, 5000),
    terminateGraceMs: o.terminateGraceMs ?? 1000,
    logger: o.logger,
    breaker: o.breaker ?? {},
    ...(o.workerUrl ? { workerUrl: o.workerUrl } : {}),
  };
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
 * {@link checkModule} on the calling thread, its refusals as `PluginError`s of kind `load` naming
 * the plugin; for tooling and the process-isolation child, which have no connections to stall.
 */
export async function prepareModule(
  bytes: Uint8Array,
  options: PrepareOptions & { readonly name: string },
): Promise<PreparedModule> {
  try {
    return await checkModule(bytes, options);
  } catch (e) {
    throw new PluginError(options.name, "load", e instanceof Error ? e.message : String(e), {
      cause: e,
    });
  }
}

const PREPARE_WORKER_URL = new URL("./prepare_worker.ts", import.meta.url);
/** Bounds a prepare worker: checking and compiling a 32 MiB module takes a few seconds. */
const PREPARE_TIMEOUT_MS = 60_000;

/**
 * {@link checkModule} in a worker of its own (no permissions), so that validating, rewriting and
 * compiling a large module never stalls the router's thread. With `move`, the bytes' buffer is
 * transferred instead of copied (and is unusable here afterwards).
 */
function prepareOffThread(
  bytes: Uint8Array,
  options: WasmPluginOptions,
  move: boolean,
): Promise<WebAssembly.Module> {
  const fail = (message: string) => new PluginError(options.name, "load", message);
  const worker = new Worker(PREPARE_WORKER_URL, { type: "module", deno: { permissions: "none" } });
  const { promise, resolve, reject } = Promise.withResolvers<WebAssembly.Module>();
  const timer = setTimeout(
    () => reject(fail(`${options.path}: checking the module took over ${PREPARE_TIMEOUT_MS} ms`)),
    PREPARE_TIMEOUT_MS,
  );
  worker.onmessage = (e: MessageEvent<PrepareReply>) => {
    if (e.data.ok) resolve(e.data.module);
    else reject(fail(e.data.message));
  };
  worker.onerror = (e) => {
    e.preventDefault();
    reject(fail(`${options.path}: the prepare worker failed: ${e.message}`));
  };
  const request: PrepareRequest = { bytes, options: prepareOptions(options) };
  worker.postMessage(request, move ? [bytes.buffer as ArrayBuffer] : []);
  return promise.finally(() => {
    clearTimeout(timer);
    worker.terminate();
  });
}

function prepareOptions(o: WasmPluginOptions): PrepareOptions {
  return {
    path: o.path,
    sha256: o.sha256,
    maxMemoryBytes: o.maxMemoryBytes,
    ...(o.maxTableElements === undefined ? {} : { maxTableElements: o.maxTableElements }),
    ...(o.maxModuleBytes === undefined ? {} : { maxModuleBytes: o.maxModuleBytes }),
  };
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
