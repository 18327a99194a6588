/**
 * The load-time checks of a WASM plugin module, as one function that runs wherever it is called:
 * in the prepare worker (`prepare_worker.ts`) when the router loads a plugin, so that a huge
 * module never stalls the router's thread; on the calling thread for tooling and the process
 * isolation child. Everything it imports lives in this folder: a worker started from source
 * may read only this folder's files (see `src/cli/sandbox.ts`).
 */

import { DEFAULT_MAX_MODULE_BYTES, moduleSizeProblem } from "./limits.ts";
import { type FuncType, instrumentModule, type ModuleInfo, RewriteError } from "./rewriter.ts";
import { importProblem } from "./wasi.ts";

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

/** What {@link checkModule} needs: the plugin's `wasm` settings, as plain data. */
export interface PrepareOptions {
  /** The module's path, named in every refusal. */
  readonly path: string;
  /** `wasm.sha256` (hex), or null when not pinned. */
  readonly sha256: string | null;
  /** `wasm.max_memory` in bytes: all the module's memories together. */
  readonly maxMemoryBytes: number;
  /** `wasm.max_table_elements`: all the module's tables together (default 65,536). */
  readonly maxTableElements?: number;
  /** `wasm.max_module_size` in bytes (default 32 MiB). */
  readonly maxModuleBytes?: number;
}

/** Why a module cannot be loaded; the message starts with the module's path. */
export class ModuleRefused extends Error {
  override readonly name = "ModuleRefused";
  /** Stable error code. */
  readonly code = "wasm_refused";
}

/**
 * Checks the size cap and the sha256 pin, validates, applies the limits and rewrites `bytes`
 * (see `rewriter.ts`), checks imports and exports against the plugin ABI, and compiles the
 * result. Throws {@link ModuleRefused}.
 */
export async function checkModule(
  bytes: Uint8Array,
  options: PrepareOptions,
): Promise<PreparedModule> {
  const fail = (message: string) => new ModuleRefused(message);
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
