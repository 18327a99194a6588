/**
 * The load-time module rewriter: reads a WebAssembly binary, records what the loader needs to
 * validate (imports, exports and their signatures, memories) and writes a copy that
 *
 * - lowers the maximum of every defined linear memory so that all memories together stay within
 *   `maxPages` (so `memory.grow` past `max_memory` returns -1 inside the module instead of
 *   growing the process), and the maximum of every table so that all tables together stay
 *   within `maxTableElements` (`table.grow` past it returns -1) — the split is `shareCap`'s;
 * - adds a one-page shared "deadline flag" memory, exported as {@link DEADLINE_EXPORT}, plus a
 *   check at every function entry, every loop header and before every bulk memory or table
 *   operation (`memory.fill/copy/init`, `table.init/copy/grow/fill`: one can take tens of
 *   milliseconds) that traps with `unreachable` once the flag is non-zero. The watchdog on the
 *   router's thread sets the flag at the call's deadline; the check is an atomic load, so the
 *   engine cannot hoist it out of a loop;
 * - moves the start function (if any) to the export {@link START_EXPORT}.
 *
 * It refuses ({@link LimitError}, {@link FeatureError}) modules over the caps of `limits.ts`,
 * memories or tables whose initial sizes already exceed theirs, and threads: shared memories and
 * `memory.atomic.wait32/wait64/notify` (a wait with timeout -1 blocks the worker thread where no
 * injected check can stop it). Other atomic instructions work on unshared memory and stay.
 *
 * Flag style rather than fuel style: it needs no import (no function-index shift to fix up in
 * calls, `ref.func`, exports, elements and names), costs less per check (docs/plugins.md §5.8:
 * +34–50% vs +45–100% on tight code) and fires at the wall-clock deadline without tuning a
 * refill rate. Sections other than table, memory, export, start and code are copied byte for byte.
 */

import {
  DEFAULT_MAX_TABLE_ELEMENTS,
  describeSizes,
  type Limits,
  MAX_DATA_SEGMENTS,
  MAX_ELEMENT_ITEMS,
  MAX_ELEMENT_SEGMENTS,
  MAX_FUNCTIONS,
  MAX_GLOBALS,
  MAX_MEMORY32_PAGES,
  PAGE_BYTES,
  shareCap,
  V8_MAX_TABLE_SIZE,
} from "./limits.ts";

/** Name of the export under which the rewritten module exposes its deadline flag memory. */
export const DEADLINE_EXPORT = "__gatehouse_deadline";

/**
 * Name of the export under which the rewritten module exposes its start function. The start
 * section is removed so that no plugin code runs inside `new WebAssembly.Instance`, before the
 * watchdog holds the instance's deadline flag; the host calls this export first instead.
 */
export const START_EXPORT = "__gatehouse_start";

/** A value type as written in the binary (single-byte types only; others show as `ref`). */
export type ValType = "i32" | "i64" | "f32" | "f64" | "v128" | "ref";

/** A function signature. */
export interface FuncType {
  /** Parameter types, in order. */
  readonly params: readonly ValType[];
  /** Result types, in order. */
  readonly results: readonly ValType[];
}

/** One import of the module. `type` is set for function imports. */
export interface ImportInfo {
  /** The import's module name, such as `wasi_snapshot_preview1`. */
  readonly module: string;
  /** The imported field's name. */
  readonly name: string;
  /** What is imported. */
  readonly kind: "func" | "table" | "memory" | "global" | "tag";
  /** The signature of a function import. */
  readonly type?: FuncType;
}

/** One export of the module. `type` is set for function exports. */
export interface ExportInfo {
  /** The export's name. */
  readonly name: string;
  /** What is exported. */
  readonly kind: "func" | "table" | "memory" | "global" | "tag";
  /** The signature of a function export. */
  readonly type?: FuncType;
}

/** What the loader learns about a module while rewriting it. */
export interface ModuleInfo {
  /** Every import, in module order. */
  readonly imports: readonly ImportInfo[];
  /** Exports by name. */
  readonly exports: ReadonlyMap<string, ExportInfo>;
  /** Initial size in pages of each defined memory, in index order. */
  readonly memoryMinPages: readonly number[];
}

/** The module cannot be rewritten (malformed, or uses a feature the rewriter does not walk). */
export class RewriteError extends Error {
  override readonly name = "RewriteError";
  readonly code = "wasm_rewrite";
}

/** The module is over a load-time limit (`max_memory`, `max_table_elements`, a count cap). */
export class LimitError extends RewriteError {
  /** Which limit: a config key such as `max_memory`, or a cap of `limits.ts` such as `functions`. */
  readonly limit: string;
  constructor(limit: string, message: string) {
    super(message);
    this.limit = limit;
  }
}

/** The module uses a feature the sandbox refuses (threads). */
export class FeatureError extends RewriteError {
  /** The refused feature. */
  readonly feature: "threads";
  constructor(feature: "threads", message: string) {
    super(`${message} (${feature} are not supported)`);
    this.feature = feature;
  }
}

const KINDS = ["func", "table", "memory", "global", "tag"] as const;
const VALTYPES: Readonly<Record<number, ValType>> = {
  0x7f: "i32",
  0x7e: "i64",
  0x7d: "f32",
  0x7c: "f64",
  0x7b: "v128",
};

/** A cursor over the module bytes. */
class Reader {
  pos: number;
  constructor(readonly bytes: Uint8Array, start = 0, readonly end = bytes.length) {
    // A size field pointing past the module must fail here, not read `undefined` bytes.
    if (end > bytes.length) throw new RewriteError(`unexpected end of module at ${bytes.length}`);
    this.pos = start;
  }
  byte(): number {
    if (this.pos >= this.end) throw new RewriteError(`unexpected end of module at ${this.pos}`);
    return this.bytes[this.pos++] as number;
  }
  /** Unsigned LEB128 up to 32 bits. */
  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 35) throw new RewriteError(`LEB128 too long at ${this.pos}`);
    }
  }
  /** Skips any LEB128 (signed or unsigned, up to 64 bits). */
  skipLeb(): void {
    for (let i = 0; i < 10; i++) if ((this.byte() & 0x80) === 0) return;
    throw new RewriteError(`LEB128 too long at ${this.pos}`);
  }
  skip(n: number): void {
    if (this.pos + n > this.end) throw new RewriteError(`unexpected end of module at ${this.pos}`);
    this.pos += n;
  }
  name(): string {
    const len = this.u32();
    const start = this.pos;
    this.skip(len);
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(this.bytes.subarray(start, this.pos));
    } catch {
      throw new RewriteError(`name at ${start} is not valid UTF-8`);
    }
  }
  valType(): ValType {
    const b = this.byte();
    if (b === 0x63 || b === 0x64) {
      this.skipLeb(); // (ref null? heaptype)
      return "ref";
    }
    return VALTYPES[b] ?? "ref";
  }
  /** Skips a block type: empty (0x40), a value type, or a type index (s33). */
  blockType(): void {
    const b = this.bytes[this.pos];
    if (b === 0x63 || b === 0x64) {
      this.pos++;
      this.skipLeb();
    } else this.skipLeb();
  }
  /** Memory or table limits; bit 0x02 (shared) is left for the caller to judge. */
  limits(): Decl {
    const flags = this.byte();
    if (flags & 0x04) throw new RewriteError("64-bit memories and tables are not supported");
    if (flags & ~0x03) {
      throw new RewriteError(`limits flags 0x${flags.toString(16)} are not supported`);
    }
    const min = this.u32();
    const max = flags & 0x01 ? this.u32() : null;
    return { flags, min, max };
  }
}

/** Growable output buffer. */
class Writer {
  #buf = new Uint8Array(1024);
  length = 0;
  #ensure(n: number): void {
    if (this.length + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.length));
    this.#buf = next;
  }
  byte(b: number): void {
    this.#ensure(1);
    this.#buf[this.length++] = b;
  }
  bytes(b: Uint8Array): void {
    this.#ensure(b.length);
    this.#buf.set(b, this.length);
    this.length += b.length;
  }
  u32(v: number): void {
    do {
      let b = v & 0x7f;
      v = Math.floor(v / 128);
      if (v !== 0) b |= 0x80;
      this.byte(b);
    } while (v !== 0);
  }
  name(s: string): void {
    const b = new TextEncoder().encode(s);
    this.u32(b.length);
    this.bytes(b);
  }
  done(): Uint8Array {
    return this.#buf.slice(0, this.length);
  }
  /** The bytes written so far, without copying; valid until the next write or `clear`. */
  view(): Uint8Array {
    return this.#buf.subarray(0, this.length);
  }
  clear(): void {
    this.length = 0;
  }
}

/** Declared limits of a memory or table, with the flags byte they were read from. */
interface Decl extends Limits {
  readonly flags: number;
}

/** A defined table: the bytes before and after its limits are copied as they are. */
interface TableDecl extends Decl {
  /** `[start, end)` of the optional `0x40 0x00` prefix and the reference type. */
  readonly head: readonly [number, number];
  /** `[start, end)` of the optional initialiser expression (empty without one). */
  readonly tail: readonly [number, number];
}

interface Parsed {
  types: FuncType[];
  imports: ImportInfo[];
  funcTypes: number[]; // type index per function, imports first
  importedMemories: Decl[];
  importedTables: Decl[];
  importedGlobals: number;
  memories: Decl[];
  tables: TableDecl[];
  exports: { name: string; kind: number; index: number }[];
  start: number | null;
  sections: { id: number; start: number; end: number }[];
}

/** What {@link instrumentModule} enforces. */
export interface RewriteOptions {
  /** `max_memory` in 64 KiB pages: all memories together. */
  readonly maxPages: number;
  /** `max_table_elements`: all tables together (default 65,536). */
  readonly maxTableElements?: number;
}

/**
 * Rewrites `bytes` as described in the module comment. Throws {@link RewriteError} (or its
 * {@link LimitError} and {@link FeatureError}) when the module is malformed, over a limit or
 * cannot be rewritten; the result still goes through the engine's validator when it is compiled.
 */
export function instrumentModule(
  bytes: Uint8Array,
  options: RewriteOptions,
): { bytes: Uint8Array; info: ModuleInfo } {
  const parsed = parseModule(bytes);
  const memoryMax = capMemories(parsed, options.maxPages);
  const tableMax = capTables(parsed, options.maxTableElements ?? DEFAULT_MAX_TABLE_ELEMENTS);
  const out = new Writer();
  out.bytes(bytes.subarray(0, 8));
  const flagMemory = parsed.importedMemories.length + parsed.memories.length;
  const check = checkSequence(flagMemory);
  let wroteMemory = false;
  let wroteExport = false;
  for (const s of parsed.sections) {
    // Sections must stay in order; memory (5) and export (7) may be missing and added here.
    const order = sectionOrder(s.id);
    if (!wroteMemory && order > sectionOrder(5)) {
      writeMemorySection(out, parsed, memoryMax);
      wroteMemory = true;
    }
    if (!wroteExport && order > sectionOrder(7)) {
      writeExportSection(out, parsed, flagMemory);
      wroteExport = true;
    }
    if (s.id === 5 || s.id === 7 || s.id === 8) continue;
    if (s.id === 4) writeTableSection(out, bytes, parsed, tableMax);
    else if (s.id === 10) writeCodeSection(out, bytes, s, check);
    else out.bytes(bytes.subarray(s.start, s.end));
  }
  if (!wroteMemory) writeMemorySection(out, parsed, memoryMax);
  if (!wroteExport) writeExportSection(out, parsed, flagMemory);
  return { bytes: out.done(), info: moduleInfo(parsed) };
}

// Order of known sections in a module (the tag section, 13, sits between memory and global;
// data count, 12, between element and code). Custom sections (0) keep their place.
function sectionOrder(id: number): number {
  const order = [1, 2, 3, 4, 5, 13, 6, 7, 8, 9, 12, 10, 11];
  return id === 0 ? -1 : order.indexOf(id);
}

// `i32.const 0; i32.atomic.load memidx=flag; if; unreachable; end` — the flag memory is not
// memory 0, so the memarg uses the multi-memory form (alignment flag bit 6, then the index).
// Stack-neutral, so it can go before any instruction.
function checkSequence(flagMemory: number): Uint8Array {
  const w = new Writer();
  w.bytes(Uint8Array.of(0x41, 0x00, 0xfe, 0x10, 0x42));
  w.u32(flagMemory);
  w.bytes(Uint8Array.of(0x00, 0x04, 0x40, 0x00, 0x0b));
  return w.done();
}

function parseModule(bytes: Uint8Array): Parsed {
  const r = new Reader(bytes);
  const magic = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  for (const m of magic) {
    if (r.byte() !== m) throw new RewriteError("not a WebAssembly module (bad magic or version)");
  }
  const p: Parsed = {
    types: [],
    imports: [],
    funcTypes: [],
    importedMemories: [],
    importedTables: [],
    importedGlobals: 0,
    memories: [],
    tables: [],
    exports: [],
    start: null,
    sections: [],
  };
  while (r.pos < bytes.length) {
    const start = r.pos;
    const id = r.byte();
    const size = r.u32();
    const body = r.pos;
    r.skip(size);
    p.sections.push({ id, start, end: r.pos });
    const sr = new Reader(bytes, body, body + size);
    parseSection(id, sr, p);
  }
  return p;
}

function parseSection(id: number, r: Reader, p: Parsed): void {
  switch (id) {
    case 1:
      return parseTypes(r, p);
    case 2:
      return parseImports(r, p);
    case 3:
      return parseFunctions(r, p);
    case 4:
      for (let n = r.u32(); n > 0; n--) p.tables.push(parseTable(r));
      return;
    case 5:
      for (let n = r.u32(); n > 0; n--) p.memories.push(memoryDecl(r, "declares"));
      return;
    case 6:
      return checkCount("globals", p.importedGlobals + r.u32(), MAX_GLOBALS);
    case 7:
      for (let n = r.u32(); n > 0; n--) {
        p.exports.push({ name: r.name(), kind: r.byte(), index: r.u32() });
      }
      return;
    case 8:
      p.start = r.u32();
      return;
    case 9:
      return parseElements(r);
    case 11:
    case 12: // data count: the same number, announced before the code
      return checkCount("data segments", r.u32(), MAX_DATA_SEGMENTS);
  }
}

/** Throws a {@link LimitError} when a module declares more `what` than `limit`. */
function checkCount(what: string, count: number, limit: number): void {
  if (count <= limit) return;
  throw new LimitError(
    what.replaceAll(" ", "_"),
    `has ${count} ${what}, above the limit of ${limit} per module`,
  );
}

function parseTypes(r: Reader, p: Parsed): void {
  for (let n = r.u32(); n > 0; n--) {
    const form = r.byte();
    if (form !== 0x60) {
      throw new RewriteError(`type form 0x${form.toString(16)} (GC proposal) is not supported`);
    }
    const params: ValType[] = [];
    for (let k = r.u32(); k > 0; k--) params.push(r.valType());
    const results: ValType[] = [];
    for (let k = r.u32(); k > 0; k--) results.push(r.valType());
    p.types.push({ params, results });
  }
}

function parseImports(r: Reader, p: Parsed): void {
  for (let n = r.u32(); n > 0; n--) {
    const module = r.name();
    const name = r.name();
    const kindByte = r.byte();
    const kind = KINDS[kindByte];
    if (kind === undefined) throw new RewriteError(`bad import kind ${kindByte}`);
    if (kind === "func") {
      const typeIndex = r.u32();
      p.funcTypes.push(typeIndex);
      const type = p.types[typeIndex];
      p.imports.push(type ? { module, name, kind, type } : { module, name, kind });
      continue;
    }
    if (kind === "table") {
      r.valType();
      p.importedTables.push(tableLimits(r, "imports"));
    } else if (kind === "memory") {
      p.importedMemories.push(memoryDecl(r, "imports"));
    } else if (kind === "global") {
      r.valType();
      r.byte();
      p.importedGlobals++;
    } else {
      r.byte();
      r.u32();
    }
    p.imports.push({ module, name, kind });
  }
  checkCount("functions", p.funcTypes.length, MAX_FUNCTIONS);
  checkCount("globals", p.importedGlobals, MAX_GLOBALS);
}

function parseFunctions(r: Reader, p: Parsed): void {
  const count = r.u32();
  checkCount("functions", p.funcTypes.length + count, MAX_FUNCTIONS);
  for (let n = count; n > 0; n--) p.funcTypes.push(r.u32());
}

function memoryDecl(r: Reader, verb: "declares" | "imports"): Decl {
  const limits = r.limits();
  if (limits.flags & 0x02) throw new FeatureError("threads", `${verb} a shared memory`);
  return limits;
}

function tableLimits(r: Reader, verb: "declares" | "imports"): Decl {
  const limits = r.limits();
  if (limits.flags & 0x02) throw new FeatureError("threads", `${verb} a shared table`);
  return limits;
}

// A table is `reftype limits`, or `0x40 0x00 reftype limits expr` (with an initialiser).
function parseTable(r: Reader): TableDecl {
  const headStart = r.pos;
  const initialised = r.bytes[r.pos] === 0x40;
  if (initialised) {
    r.skip(1);
    if (r.byte() !== 0x00) throw new RewriteError(`bad table encoding at ${r.pos - 1}`);
  }
  r.valType();
  const head = [headStart, r.pos] as const;
  const limits = tableLimits(r, "declares");
  const tailStart = r.pos;
  if (initialised) skipConstExpr(r);
  return { ...limits, head, tail: [tailStart, r.pos] };
}

// Element segments (flags 0–7): bit 0 passive/declarative (no offset), bit 1 an explicit table
// index (active) or declarative, bit 2 items are expressions rather than function indices.
function parseElements(r: Reader): void {
  const count = r.u32();
  checkCount("element segments", count, MAX_ELEMENT_SEGMENTS);
  let items = 0;
  for (let i = 0; i < count; i++) {
    const flags = r.u32();
    if (flags > 7) throw new RewriteError(`bad element segment flags ${flags}`);
    if ((flags & 0x03) === 0x02) r.u32(); // table index
    if ((flags & 0x01) === 0) skipConstExpr(r); // offset
    const expressions = (flags & 0x04) !== 0;
    if ((flags & 0x03) !== 0) r.valType(); // reference type, or the elemkind byte 0x00
    const n = r.u32();
    items += n;
    checkCount("element segment items", items, MAX_ELEMENT_ITEMS);
    for (let k = 0; k < n; k++) {
      if (expressions) skipConstExpr(r);
      else r.u32();
    }
  }
}

function skipConstExpr(r: Reader): void {
  for (let op = r.byte(); op !== 0x0b; op = r.byte()) skipImmediates(r, op, -1);
}

/**
 * The lowered maximum of each defined memory (see `shareCap`), after refusing memories that
 * start at the whole address space or whose initial sizes, together, exceed `maxPages`.
 * Imported memories count towards the total but keep their limits (the loader refuses them).
 */
function capMemories(p: Parsed, maxPages: number): number[] {
  const all = [...p.importedMemories, ...p.memories];
  all.forEach((m, i) => {
    if (m.min >= MAX_MEMORY32_PAGES) {
      throw new LimitError(
        "max_memory",
        `memory ${i} starts at ${m.min} pages (4 GiB), the whole 32-bit address space`,
      );
    }
    if (m.min > maxPages) {
      const [got, max] = describeSizes(m.min * PAGE_BYTES, maxPages * PAGE_BYTES);
      throw new LimitError("max_memory", `memory ${i} starts at ${got}, above max_memory (${max})`);
    }
  });
  const total = all.reduce((sum, m) => sum + m.min, 0);
  if (total > maxPages) {
    const [got, max] = describeSizes(total * PAGE_BYTES, maxPages * PAGE_BYTES);
    throw new LimitError(
      "max_memory",
      `memories start at ${got} together (${all.length} memories), above max_memory (${max})`,
    );
  }
  return shareCap(all, maxPages, MAX_MEMORY32_PAGES).slice(p.importedMemories.length);
}

/** As {@link capMemories}, for tables under `max_table_elements`. */
function capTables(p: Parsed, maxElements: number): number[] {
  const all = [...p.importedTables, ...p.tables];
  all.forEach((t, i) => {
    if (t.min > maxElements) {
      throw new LimitError(
        "max_table_elements",
        `table ${i} starts at ${t.min} elements, above max_table_elements (${maxElements})`,
      );
    }
  });
  const total = all.reduce((sum, t) => sum + t.min, 0);
  if (total > maxElements) {
    throw new LimitError(
      "max_table_elements",
      `tables start at ${total} elements together (${all.length} tables), ` +
        `above max_table_elements (${maxElements})`,
    );
  }
  return shareCap(all, maxElements, V8_MAX_TABLE_SIZE).slice(p.importedTables.length);
}

function writeSection(out: Writer, id: number, body: Writer): void {
  out.byte(id);
  out.u32(body.length);
  out.bytes(body.done());
}

function writeLimits(out: Writer, d: Decl, max: number): void {
  out.byte(d.flags | 0x01);
  out.u32(d.min);
  out.u32(max);
}

function writeTableSection(out: Writer, bytes: Uint8Array, p: Parsed, maxima: number[]): void {
  const body = new Writer();
  body.u32(p.tables.length);
  p.tables.forEach((t, i) => {
    body.bytes(bytes.subarray(...t.head));
    writeLimits(body, t, maxima[i] ?? t.min);
    body.bytes(bytes.subarray(...t.tail));
  });
  writeSection(out, 4, body);
}

function writeMemorySection(out: Writer, p: Parsed, maxima: number[]): void {
  const body = new Writer();
  body.u32(p.memories.length + 1);
  p.memories.forEach((m, i) => writeLimits(body, m, maxima[i] ?? m.min));
  body.bytes(Uint8Array.of(0x03, 0x01, 0x01)); // the flag memory: shared, 1 page, max 1
  writeSection(out, 5, body);
}

function writeExportSection(out: Writer, p: Parsed, flagMemory: number): void {
  const body = new Writer();
  const added = [{ name: DEADLINE_EXPORT, kind: 0x02, index: flagMemory }];
  if (p.start !== null) added.push({ name: START_EXPORT, kind: 0x00, index: p.start });
  body.u32(p.exports.length + added.length);
  for (const e of [...p.exports, ...added]) {
    if (e.name.startsWith("__gatehouse_") && !added.includes(e)) {
      throw new RewriteError(`export "${e.name}" uses the reserved prefix __gatehouse_`);
    }
    body.name(e.name);
    body.byte(e.kind);
    body.u32(e.index);
  }
  writeSection(out, 7, body);
}

function writeCodeSection(
  out: Writer,
  bytes: Uint8Array,
  s: { start: number; end: number },
  check: Uint8Array,
): void {
  const r = new Reader(bytes, s.start, s.end);
  r.byte();
  r.u32();
  const body = new Writer();
  const count = r.u32();
  body.u32(count);
  // One scratch buffer for every body: a fresh one per body more than doubled the rewrite time
  // of a module of 200,000 small functions (720 → 320 ms on the first, unoptimised run).
  const fn = new Writer();
  for (let i = 0; i < count; i++) {
    const size = r.u32();
    const end = r.pos + size;
    if (end > s.end) throw new RewriteError(`code body ${i} runs past its section`);
    fn.clear();
    instrumentBody(new Reader(bytes, r.pos, end), fn, check, i);
    body.u32(fn.length);
    body.bytes(fn.view());
    r.pos = end;
  }
  writeSection(out, 10, body);
}

function instrumentBody(r: Reader, out: Writer, check: Uint8Array, fn: number): void {
  const start = r.pos;
  for (let n = r.u32(); n > 0; n--) {
    r.u32();
    r.valType();
  }
  out.bytes(r.bytes.subarray(start, r.pos));
  out.bytes(check);
  // Copies runs of the original bytes, splicing the check in after each loop header and before
  // each bulk operation.
  let from = r.pos;
  while (r.pos < r.end) {
    const at = r.pos;
    const op = r.byte();
    if (op === 0xfc && BULK_OPS.has(peekU32(r))) {
      out.bytes(r.bytes.subarray(from, at));
      out.bytes(check);
      from = at;
    }
    skipImmediates(r, op, fn);
    if (op === 0x03) {
      out.bytes(r.bytes.subarray(from, r.pos));
      out.bytes(check);
      from = r.pos;
    }
  }
  out.bytes(r.bytes.subarray(from, r.end));
}

/**
 * 0xFC sub-opcodes that do work proportional to an operand: memory.init (8), memory.copy (10),
 * memory.fill (11), table.init (12), table.copy (14), table.grow (15), table.fill (17). One
 * `memory.fill` over 64 MiB takes milliseconds, and straight-line code can chain thousands
 * with no loop or call to check at, so each gets a check before it: a call then runs at most
 * one such operation past its deadline.
 */
const BULK_OPS: ReadonlySet<number> = new Set([8, 10, 11, 12, 14, 15, 17]);

function peekU32(r: Reader): number {
  const at = r.pos;
  const value = r.u32();
  r.pos = at;
  return value;
}

function memarg(r: Reader): void {
  const align = r.u32();
  if (align & 0x40) r.u32(); // multi-memory: memory index follows
  r.skipLeb();
}

// Opcodes whose only immediate is one LEB128 index or label.
const ONE_INDEX = new Set([
  0x07,
  0x08,
  0x09,
  0x0c,
  0x0d,
  0x10,
  0x12,
  0x14,
  0x15,
  0x18,
  0x20,
  0x21,
  0x22,
  0x23,
  0x24,
  0x25,
  0x26,
  0x3f,
  0x40,
  0x41,
  0x42,
  0xd2,
  0xd5,
  0xd6,
]);

function skipImmediates(r: Reader, op: number, fn: number): void {
  if (op <= 0x01 || op === 0x05 || op === 0x0a || op === 0x0b || op === 0x0f) return;
  if (op === 0x1a || op === 0x1b || op === 0x19) return;
  if (op >= 0x45 && op <= 0xc4) return; // numeric, no immediates
  if (op === 0xd1 || op === 0xd3 || op === 0xd4) return;
  if (ONE_INDEX.has(op)) return r.skipLeb();
  if (op >= 0x28 && op <= 0x3e) return memarg(r);
  switch (op) {
    case 0x02:
    case 0x03:
    case 0x04:
    case 0x06:
      return r.blockType();
    case 0x0e:
      for (let n = r.u32() + 1; n > 0; n--) r.u32();
      return;
    case 0x11:
    case 0x13:
      r.u32();
      return r.skipLeb();
    case 0x1c:
      for (let n = r.u32(); n > 0; n--) r.valType();
      return;
    case 0x1f:
      return tryTable(r);
    case 0x43:
      return r.skip(4);
    case 0x44:
      return r.skip(8);
    case 0xd0:
      return r.blockType(); // heap type: same encoding as a block type's s33/abbreviation
    case 0xfc:
      return prefixedFC(r, fn);
    case 0xfd:
      return prefixedFD(r);
    case 0xfe:
      return prefixedFE(r, fn);
  }
  throw new RewriteError(unsupported(op, null, fn, r.pos));
}

function tryTable(r: Reader): void {
  r.blockType();
  for (let n = r.u32(); n > 0; n--) {
    const kind = r.byte();
    if (kind <= 0x01) r.u32(); // catch / catch_ref: tag index
    r.u32(); // label
  }
}

function prefixedFC(r: Reader, fn: number): void {
  const sub = r.u32();
  if (sub <= 7) return;
  if (sub === 8 || sub === 10 || sub === 12 || sub === 14) {
    r.u32();
    r.u32();
    return;
  }
  if (sub === 9 || sub === 11 || sub === 13 || sub === 15 || sub === 16 || sub === 17) {
    r.u32();
    return;
  }
  throw new RewriteError(unsupported(0xfc, sub, fn, r.pos));
}

function prefixedFD(r: Reader): void {
  const sub = r.u32();
  if (sub <= 11 || sub === 92 || sub === 93) return memarg(r);
  if (sub === 12 || sub === 13) return r.skip(16);
  if (sub >= 21 && sub <= 34) return r.skip(1); // lane index
  if (sub >= 84 && sub <= 91) {
    memarg(r);
    return r.skip(1);
  }
  // Every other SIMD and relaxed-SIMD opcode has no immediate.
}

// Refused at load: a wait blocks the worker thread inside the engine, where no injected check
// runs (with timeout -1, until the worker is terminated), and notify only serves waits. Without
// a shared memory (also refused) they would merely trap at run time; a load error says why.
const THREAD_OPS: Readonly<Record<number, string>> = {
  0x00: "memory.atomic.notify",
  0x01: "memory.atomic.wait32",
  0x02: "memory.atomic.wait64",
};

function prefixedFE(r: Reader, fn: number): void {
  const sub = r.u32();
  const threadOp = THREAD_OPS[sub];
  if (threadOp !== undefined) throw new FeatureError("threads", `uses ${threadOp} in ${where(fn)}`);
  if (sub === 0x03) return r.skip(1); // atomic.fence: one reserved byte
  if (sub <= 0x02 || (sub >= 0x10 && sub <= 0x4e)) return memarg(r);
  throw new RewriteError(unsupported(0xfe, sub, fn, r.pos));
}

function unsupported(op: number, sub: number | null, fn: number, pos: number): string {
  const name = sub === null ? `0x${op.toString(16)}` : `0x${op.toString(16)} ${sub}`;
  return `unsupported instruction ${name} in ${where(fn)} (byte ${pos})`;
}

// Where an instruction is: code body `fn`, or (fn < 0) a constant expression.
function where(fn: number): string {
  return fn < 0 ? "a constant expression" : `code body ${fn}`;
}

function moduleInfo(p: Parsed): ModuleInfo {
  const exports = new Map<string, ExportInfo>();
  for (const e of p.exports) {
    const kind = KINDS[e.kind];
    if (kind === undefined) throw new RewriteError(`bad export kind ${e.kind}`);
    const typeIndex = kind === "func" ? p.funcTypes[e.index] : undefined;
    const type = typeIndex === undefined ? undefined : p.types[typeIndex];
    exports.set(e.name, type ? { name: e.name, kind, type } : { name: e.name, kind });
  }
  return { imports: p.imports, exports, memoryMinPages: p.memories.map((m) => m.min) };
}
