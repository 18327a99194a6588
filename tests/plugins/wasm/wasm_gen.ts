/**
 * Test helpers for the rewriter and limit tests: WAT with every feature the rewriter walks,
 * reading a binary back as validated text, and a few raw-binary builders for modules too large
 * to write as WAT.
 */

import wabtInit from "wabt";

const wabt = await wabtInit();

/**
 * wabt features: the proposals the rewriter must walk or refuse. `multi_memory` is missing from
 * wabt's type declarations but honoured by its parser and validator.
 */
export const FEATURES: Record<string, boolean> = {
  bulk_memory: true,
  threads: true,
  multi_memory: true,
  reference_types: true,
  simd: true,
  sign_extension: true,
  sat_float_to_int: true,
  multi_value: true,
};

/** Compiles WAT text to a binary. */
export function wat(text: string): Uint8Array {
  const module = wabt.parseWat("test.wat", text, FEATURES);
  try {
    return module.toBinary({}).buffer;
  } finally {
    module.destroy();
  }
}

/** Validates `bytes` with wabt (throws on an invalid module) and prints them as WAT. */
export function wasmText(bytes: Uint8Array): string {
  const module = wabt.readWasm(bytes, { readDebugNames: false, ...FEATURES });
  try {
    // The validator takes the features too (its default rejects multi-memory and threads);
    // wabt's type declarations leave the argument out.
    (module as unknown as { validate(features: object): void }).validate(FEATURES);
    return module.toText({});
  } finally {
    module.destroy();
  }
}

/** Unsigned LEB128. */
export function u32(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

/** One section: id, size, body. */
export function section(id: number, body: ArrayLike<number>): Uint8Array {
  const head = [id, ...u32(body.length)];
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}

/** A vector of `count` copies of `item`, as a section body: count, then the items. */
export function repeated(count: number, item: ArrayLike<number>): Uint8Array {
  const head = u32(count);
  const out = new Uint8Array(head.length + count * item.length);
  out.set(head);
  out.set(copies(count, item), head.length);
  return out;
}

/** `count` copies of `item`, back to back. */
function copies(count: number, item: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(count * item.length);
  for (let i = 0; i < count; i++) out.set(item, i * item.length);
  return out;
}

// Canonical order of the known sections (tag 13 after memory, data count 12 before code).
const ORDER = [1, 2, 3, 4, 5, 13, 6, 7, 8, 9, 12, 10, 11];

/** `base` with `extra` (a whole section) inserted where its id belongs. */
export function insertSection(base: Uint8Array, extra: Uint8Array): Uint8Array {
  const rank = ORDER.indexOf(extra[0] ?? 0);
  let pos = 8;
  while (pos < base.length) {
    const id = base[pos] ?? 0;
    if (id !== 0 && ORDER.indexOf(id) > rank) break;
    let size = 0;
    let shift = 0;
    let p = pos + 1;
    for (;;) {
      const b = base[p++] ?? 0;
      size += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if ((b & 0x80) === 0) break;
    }
    pos = p + size;
  }
  const out = new Uint8Array(base.length + extra.length);
  out.set(base.subarray(0, pos));
  out.set(extra, pos);
  out.set(base.subarray(pos), pos + extra.length);
  return out;
}

/**
 * The smallest valid plugin (docs/plugins.md §5.1 "ABI"): exports `memory`, `alloc`, and an
 * `on_connect` that runs `body` (WAT instructions; locals `$ptr`, `$len`) and then answers `{}`.
 * `fields` are extra module fields. The answer `{}` lives at address 16.
 */
export function pluginWat(body: string, fields = "", memory = '(memory (export "memory") 1)') {
  return `(module
  ${memory}
  ${fields}
  (data (i32.const 16) "{}")
  (func (export "alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "on_connect") (param $ptr i32) (param $len i32) (result i64)
    ${body}
    (i64.or (i64.shl (i64.const 16) (i64.const 32)) (i64.const 2))))`;
}

/** Signed LEB128 (for `i32.const` / `i64.const` immediates). */
export function s64(value: bigint): number[] {
  const out: number[] = [];
  for (;;) {
    const b = Number(value & 0x7fn);
    value >>= 7n;
    const done = (value === 0n && (b & 0x40) === 0) || (value === -1n && (b & 0x40) !== 0);
    out.push(done ? b : b | 0x80);
    if (done) return out;
  }
}

function name(text: string): number[] {
  const bytes = [...new TextEncoder().encode(text)];
  return [...u32(bytes.length), ...bytes];
}

/**
 * {@link pluginWat} built byte by byte, for bodies wabt's text parser cannot take (it hangs on
 * a few hundred nested blocks): `body` is the raw instruction bytes of `on_connect` before it
 * answers `{}`. `extraFunctions` empty functions are added (wabt takes seconds for 200,000).
 */
export function rawPlugin(body: ArrayLike<number>, extraFunctions = 0): Uint8Array {
  const onConnect = [0, ...Array.from(body), 0x42, ...s64((16n << 32n) | 2n), 0x0b];
  const functions = u32(2 + extraFunctions);
  const sections = [
    section(1, [3, 0x60, 1, 0x7f, 1, 0x7f, 0x60, 2, 0x7f, 0x7f, 1, 0x7e, 0x60, 0, 0]),
    section(3, [...functions, 0, 1, ...copies(extraFunctions, [2])]),
    section(5, [1, 0, 1]),
    section(7, [3, ...name("memory"), 2, 0, ...name("alloc"), 0, 0, ...name("on_connect"), 0, 1]),
    section(10, [
      ...functions,
      5,
      0,
      0x41,
      ...s64(1024n),
      0x0b,
      ...u32(onConnect.length),
      ...onConnect,
      ...copies(extraFunctions, [2, 0, 0x0b]), // size 2: no locals, `end`
    ]),
    section(11, [1, 0, 0x41, 16, 0x0b, 2, 0x7b, 0x7d]),
  ];
  const out = new Uint8Array(8 + sections.reduce((n, s) => n + s.length, 0));
  out.set([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
  let pos = 8;
  for (const s of sections) {
    out.set(s, pos);
    pos += s.length;
  }
  return out;
}
