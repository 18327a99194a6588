/**
 * Load-time limits on what a plugin module may declare, in one place. The configurable ones
 * (`max_memory`, `max_table_elements`, `max_module_size`) bound what a module can make the
 * router allocate; the fixed counts below are far above anything a real plugin declares and far
 * enough below V8's own limits (`wasm-limits.h`) that a hostile module cannot make the loader
 * or each instance spend seconds or hundreds of MiB before any plugin code runs.
 *
 * Reference points: the real builds this host runs (docs/plugins.md §5.7) declare a few thousand
 * functions at most (the 1.7 MB Go reactor is the largest), a few dozen globals, one element
 * segment and a handful of data segments (AssemblyScript: one per static object, still in the
 * hundreds).
 */

/** WebAssembly page size in bytes. */
export const PAGE_BYTES = 65_536;

/**
 * Pages a 32-bit memory can address (4 GiB). A memory may not *start* this large: no plugin
 * needs the whole address space from its first instruction, and granting it would reserve
 * 4 GiB per instance at instantiation.
 */
export const MAX_MEMORY32_PAGES = 65_536;

/** V8's limit on one table's size (`kV8MaxWasmTableSize`); table maxima never exceed it. */
export const V8_MAX_TABLE_SIZE = 10_000_000;

/** `max_table_elements` when not configured: all tables together. */
export const DEFAULT_MAX_TABLE_ELEMENTS = 65_536;

/** `max_module_size` when not configured, in bytes. */
export const DEFAULT_MAX_MODULE_BYTES = 32 * 1024 * 1024;

/**
 * Functions, imported and defined together. 300,000: 1.5 times the 200,000 trivial functions of
 * the load-latency test module (which must keep loading) and ~100 times a real plugin, a third
 * of V8's 1,000,000 (`kV8MaxWasmDefinedFunctions`). Each function costs V8 bookkeeping per
 * module and the rewriter an injected check, so this bounds load time and module memory.
 */
export const MAX_FUNCTIONS = 300_000;

/**
 * Globals, imported and defined together. 100,000: V8 allows 1,000,000 (`kV8MaxWasmGlobals`),
 * which is ~16 MiB of global storage allocated and initialised for every instance.
 */
export const MAX_GLOBALS = 100_000;

/**
 * Data segments. 20,000: V8 allows 100,000 (`kV8MaxWasmDataSegments`); every one is processed at
 * each instantiation, and passive ones stay alive per instance until dropped.
 */
export const MAX_DATA_SEGMENTS = 20_000;

/**
 * Element segments. 10,000: compilers emit one (the indirect-function table); V8 allows as
 * many as 10,000,000 table-initialiser entries, each processed at every instantiation.
 */
export const MAX_ELEMENT_SEGMENTS = 10_000;

/**
 * Items of all element segments together. 1,000,000: a tenth of V8's 10,000,000
 * (`kV8MaxWasmTableInitEntries`); at 8 bytes or more per item per instance, 10 million is
 * 80 MiB+ per instance before `max_table_elements` even applies (passive segments are not
 * bounded by any table).
 */
export const MAX_ELEMENT_ITEMS = 1_000_000;

/** A memory or table size as declared: initial size and optional maximum. */
export interface Limits {
  /** Initial size (pages or elements). */
  readonly min: number;
  /** Declared maximum, or null for none. */
  readonly max: number | null;
}

/**
 * The lowered maxima of several memories (or tables) sharing one cap, in index order: each gets
 * `min(declared max, its min + headroom left)`, where the headroom starts as the cap minus every
 * initial size and shrinks by what each earlier one may grow. So the maxima sum to at most the
 * cap, the first (the main memory, the indirect-function table) has first claim on the growth,
 * and a declared maximum below the cap is kept. `ceiling` bounds any one maximum (the engine's
 * own limit). The caller checks first that the initial sizes fit under the cap.
 */
export function shareCap(entries: readonly Limits[], cap: number, ceiling: number): number[] {
  let headroom = cap - entries.reduce((sum, e) => sum + e.min, 0);
  return entries.map((e) => {
    const max = Math.min(e.max ?? Infinity, e.min + Math.max(0, headroom), ceiling);
    headroom -= Math.max(0, max - e.min);
    return max;
  });
}

/**
 * `size` and `limit` in bytes as short texts for a message ("40 MiB", "128 KiB", "1.5 GiB"); when
 * rounding would make them read the same, both are given exactly in bytes.
 */
export function describeSizes(size: number, limit: number): [string, string] {
  const a = formatBytes(size);
  const b = formatBytes(limit);
  return a === b && size !== limit ? [`${size} bytes`, `${limit} bytes`] : [a, b];
}

/** `n` bytes as a short text: "40 MiB", "128 KiB", "1.5 GiB", "300 bytes". */
export function formatBytes(n: number): string {
  for (const [unit, scale] of [["GiB", 1024 ** 3], ["MiB", 1024 ** 2], ["KiB", 1024]] as const) {
    if (n >= scale) {
      return n % scale === 0 ? `${n / scale} ${unit}` : `${(n / scale).toFixed(1)} ${unit}`;
    }
  }
  return `${n} bytes`;
}

/** Why a module of `size` bytes is refused under `max_module_size` = `limit`, or null. */
export function moduleSizeProblem(size: number, limit: number): string | null {
  if (size <= limit) return null;
  const [got, max] = describeSizes(size, limit);
  return `module is ${got}, above max_module_size (${max})`;
}
