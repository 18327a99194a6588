/**
 * The load-time module rewriter: reads a WebAssembly binary, records what the loader needs to
 * validate (imports, exports and their signatures, memories) and writes a copy that
 *
 * - caps every defined linear memory at `maxPages` (so `memory.grow` past `max_memory` returns
 *   -1 inside the module instead of growing the process), and
 * - adds a one-page shared "deadline flag" memory, exported as {@link DEADLINE_EXPORT}, plus a
 *   check at every function entry and loop header that traps with `unreachable` once the flag
 *   is non-zero. The watchdog on the router's thread sets the flag at the call's deadline; the
 *   check is an atomic load, so the engine cannot hoist it out of a loop.
 *
 * - moves the start function (if any) to the export {@link START_EXPORT}.
 *
 * Flag style rather than fuel style: it needs no import (no function-index shift to fix up in
 * calls, `ref.func`, exports, elements and names), costs less per check (PLUGINS.md measured
 * +34–50% vs +45–100% on tight code) and fires at the wall-clock deadline without tuning a
 * refill rate. Sections other than memory, export and code are copied byte for byte.
 */

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
    return new TextDecoder("utf-8", { fatal: true }).decode(this.bytes.subarray(start, this.pos));
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
  limits(): { flags: number; min: number; max: number | null } {
    const flags = this.byte();
    if (flags & 0x04) throw new RewriteError("64-bit memories and tables are not supported");
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
}

interface Parsed {
  types: FuncType[];
  imports: ImportInfo[];
  funcTypes: number[]; // type index per function, imports first
  importedMemories: number;
  memories: { flags: number; min: number; max: number | null }[];
  exports: { name: string; kind: number; index: number }[];
  start: number | null;
  sections: { id: number; start: number; end: number }[];
}

/**
 * Rewrites `bytes` as described in the module comment. Throws {@link RewriteError} when the
 * module is malformed or cannot be rewritten; the result still goes through the engine's
 * validator when it is compiled.
 */
export function instrumentModule(
  bytes: Uint8Array,
  options: { maxPages: number },
): { bytes: Uint8Array; info: ModuleInfo } {
  const parsed = parseModule(bytes);
  const out = new Writer();
  out.bytes(bytes.subarray(0, 8));
  const flagMemory = parsed.importedMemories + parsed.memories.length;
  const check = checkSequence(flagMemory);
  let wroteMemory = false;
  let wroteExport = false;
  for (const s of parsed.sections) {
    // Sections must stay in order; memory (5) and export (7) may be missing and added here.
    const order = sectionOrder(s.id);
    if (!wroteMemory && order > sectionOrder(5)) {
      writeMemorySection(out, parsed, options.maxPages);
      wroteMemory = true;
    }
    if (!wroteExport && order > sectionOrder(7)) {
      writeExportSection(out, parsed, flagMemory);
      wroteExport = true;
    }
    if (s.id === 5 || s.id === 7 || s.id === 8) continue;
    if (s.id === 10) {
      writeCodeSection(out, bytes, s, check);
      continue;
    }
    out.bytes(bytes.subarray(s.start, s.end));
  }
  if (!wroteMemory) writeMemorySection(out, parsed, options.maxPages);
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
    importedMemories: 0,
    memories: [],
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
      for (let n = r.u32(); n > 0; n--) p.funcTypes.push(r.u32());
      return;
    case 5:
      for (let n = r.u32(); n > 0; n--) p.memories.push(r.limits());
      return;
    case 7:
      for (let n = r.u32(); n > 0; n--) {
        p.exports.push({ name: r.name(), kind: r.byte(), index: r.u32() });
      }
      return;
    case 8:
      p.start = r.u32();
      return;
  }
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
      r.limits();
    } else if (kind === "memory") {
      r.limits();
      p.importedMemories++;
    } else if (kind === "global") {
      r.valType();
      r.byte();
    } else {
      r.byte();
      r.u32();
    }
    p.imports.push({ module, name, kind });
  }
}

function writeSection(out: Writer, id: number, body: Writer): void {
  out.byte(id);
  out.u32(body.length);
  out.bytes(body.done());
}

function writeMemorySection(out: Writer, p: Parsed, maxPages: number): void {
  const body = new Writer();
  body.u32(p.memories.length + 1);
  p.memories.forEach((m, i) => {
    if (m.min > maxPages) {
      throw new CapError(i, m.min, maxPages);
    }
    const max = m.max === null ? maxPages : Math.min(m.max, maxPages);
    body.byte(m.flags | 0x01);
    body.u32(m.min);
    body.u32(max);
  });
  body.bytes(Uint8Array.of(0x03, 0x01, 0x01)); // the flag memory: shared, 1 page, max 1
  writeSection(out, 5, body);
}

/** A memory's declared initial size already exceeds the cap. */
export class CapError extends RewriteError {
  constructor(readonly memory: number, readonly minPages: number, readonly maxPages: number) {
    super(
      `memory ${memory} starts at ${minPages * 64} KiB, above max_memory (${maxPages * 64} KiB)`,
    );
  }
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
  for (let i = 0; i < count; i++) {
    const size = r.u32();
    const end = r.pos + size;
    const fn = new Writer();
    instrumentBody(new Reader(bytes, r.pos, end), fn, check, i);
    body.u32(fn.length);
    body.bytes(fn.done());
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
  let from = r.pos;
  while (r.pos < r.end) {
    const op = r.byte();
    skipImmediates(r, op, fn);
    if (op === 0x03) {
      out.bytes(r.bytes.subarray(from, r.pos));
      out.bytes(check);
      from = r.pos;
    }
  }
  out.bytes(r.bytes.subarray(from, r.end));
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

function prefixedFE(r: Reader, fn: number): void {
  const sub = r.u32();
  if (sub === 0x03) return r.skip(1); // atomic.fence: one reserved byte
  if (sub <= 0x02 || (sub >= 0x10 && sub <= 0x4e)) return memarg(r);
  throw new RewriteError(unsupported(0xfe, sub, fn, r.pos));
}

function unsupported(op: number, sub: number | null, fn: number, pos: number): string {
  const name = sub === null ? `0x${op.toString(16)}` : `0x${op.toString(16)} ${sub}`;
  return `unsupported instruction ${name} in code body ${fn} (byte ${pos})`;
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
