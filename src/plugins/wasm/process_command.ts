/**
 * The command line of a plugin's child process (`wasm.isolation: process`): `deno run` with no
 * permissions except what loading its own code needs, and a V8 heap cap.
 *
 * Measured on Deno 2.9.6 (see `tests/plugins/wasm/process_isolation_test.ts`):
 * - a main module and its static imports load without any read permission, but a `Worker` script
 *   and each module it imports need read permission on their files. From source the child gets
 *   read on exactly those ({@link workerSourceFiles}); in the bundle the worker is inlined as a
 *   `blob:` URL and the child gets no read at all;
 * - `--max-old-space-size` caps each isolate's JS heap separately (the relay's and every
 *   worker's); WebAssembly memories and ArrayBuffers are allocated outside it. A heap past the
 *   cap, in a worker too, ends the whole process (V8's fatal "out of memory", SIGTRAP).
 */

import { fileURLToPath } from "node:url";
import { PluginError } from "../transport.ts";

/**
 * The files a worker script loads: it and, transitively, every module it imports for code
 * (relative `import`/`export … from`, not `import type`/`export type`), as absolute paths. From
 * source the child is granted read on exactly these. Read from the files themselves (the router
 * may read the worker's source directory), so the grant follows the code as it changes; a test
 * checks the result against `deno info`.
 */
export function workerSourceFiles(entry: URL): string[] {
  const seen = new Set<string>();
  const visit = (url: URL) => {
    if (seen.has(url.href)) return;
    seen.add(url.href);
    for (const match of Deno.readTextFileSync(url).matchAll(CODE_IMPORT)) {
      visit(new URL(match[1]!, url));
    }
  };
  visit(entry);
  return [...seen].map((href) => fileURLToPath(href));
}

// `import … from "./x.ts"` / `export … from "../y.ts"` starting a line, unless type-only.
const CODE_IMPORT = /^(?:import|export)\s+(?!type\s)[^;]*?\sfrom\s+"(\.{1,2}\/[^"]+)"/gm;

/** The hidden command with which the bundle runs as a plugin's child process. */
export const CHILD_COMMAND = "__wasm-process-child";

/**
 * Serves one plugin as its child process until stdin closes (what the bundle runs under
 * {@link CHILD_COMMAND}); resolves with the exit code. The child's code is imported here, on
 * demand: no other command needs it.
 */
export async function runChildCommand(): Promise<number> {
  const { runProcessChild } = await import("./process_child.ts");
  return await runProcessChild();
}

/** Headroom of each isolate's heap cap beyond the module's share: Deno's runtime and the relay. */
export const HEAP_HEADROOM_MIB = 64;

/** What the command depends on. */
export interface ChildCommandOptions {
  readonly name: string;
  /** `wasm.max_memory` in bytes. */
  readonly maxMemoryBytes: number;
  /** Test seam: the worker script of the child's host; read on it is granted too. */
  readonly workerUrl?: URL;
  /** Test seam: a different child script (run like the source entry point). */
  readonly childUrl?: URL;
}

/**
 * The V8 heap cap of the child, MiB, per isolate: {@link HEAP_HEADROOM_MIB} plus twice
 * `max_memory`. A margin, not a measured need: the WASI layer keeps no module data on the JS heap
 * beyond a 4 KiB line per stream and 1 MiB per host call (requests and answers travel in shared
 * buffers, outside the heap), so the cap is there for what a bug in our host code could let a
 * module pile up — it then ends the child, not the router. Not × instances: each worker is an
 * isolate with its own cap, and linear memories (≤ `max_memory` together, enforced by the
 * rewriter) lie outside every cap.
 */
export function heapCapMiB(maxMemoryBytes: number): number {
  return HEAP_HEADROOM_MIB + 2 * Math.ceil(maxMemoryBytes / (1024 * 1024));
}

/**
 * The `deno` arguments that start the child. Throws a `PluginError` of kind `load` in a
 * `deno compile` binary, which cannot start a Deno with flags of its own choosing.
 */
export function childArgs(options: ChildCommandOptions, moduleUrl = import.meta.url): string[] {
  const flags = [
    "run",
    "--no-config",
    "--no-prompt",
    "--no-remote",
    "--no-npm",
    "--unstable-worker-options",
    `--v8-flags=--max-old-space-size=${heapCapMiB(options.maxMemoryBytes)}`,
  ];
  if (moduleUrl.includes("/deno-compile-")) {
    throw new PluginError(
      options.name,
      "load",
      "wasm.isolation: process is not available in a compiled binary (it cannot start a " +
        "permission-less Deno); run from source or the bundle, or use isolation: worker",
    );
  }
  const fromSource = moduleUrl.endsWith("/src/plugins/wasm/process_command.ts");
  if (!fromSource && !options.childUrl) {
    // The bundle: one file, the worker inlined; it runs itself with the hidden command.
    return [...flags, fileURLToPath(moduleUrl), CHILD_COMMAND];
  }
  const read = workerSourceFiles(options.workerUrl ?? new URL("./worker.ts", moduleUrl));
  if (read.some((path) => path.includes(","))) {
    // Deno's list flags are comma-separated: such a path cannot be granted exactly.
    throw new PluginError(options.name, "load", `cannot grant read on ${read.join(",")}`);
  }
  const entry = options.childUrl ?? new URL("./process_child_entry.ts", moduleUrl);
  return [...flags, `--allow-read=${read.join(",")}`, fileURLToPath(entry)];
}
