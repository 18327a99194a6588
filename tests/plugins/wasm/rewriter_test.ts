/**
 * Unit tests of the module rewriter on small WAT modules. Every rewritten module goes through
 * wabt's validator; effects are checked by reading the result back as text and by running it.
 * Expected maxima are worked out by hand from the documented rule (`shareCap`), not computed.
 */

import assert from "node:assert/strict";
import {
  DEADLINE_EXPORT,
  FeatureError,
  instrumentModule,
  LimitError,
  RewriteError,
} from "../../../src/plugins/wasm/rewriter.ts";
import {
  MAX_DATA_SEGMENTS,
  MAX_ELEMENT_ITEMS,
  MAX_ELEMENT_SEGMENTS,
  MAX_FUNCTIONS,
  MAX_GLOBALS,
} from "../../../src/plugins/wasm/limits.ts";
import { repeated, section, u32, wasmText, wat } from "./wasm_gen.ts";

const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

/** Rewrites with a 16-page (1 MiB) memory cap unless told otherwise; checks with wabt. */
function rewrite(bytes: Uint8Array, maxPages = 16, maxTableElements?: number) {
  const result = instrumentModule(bytes, {
    maxPages,
    ...(maxTableElements === undefined ? {} : { maxTableElements }),
  });
  return { ...result, text: wasmText(result.bytes) };
}

/** Instantiates a rewritten module; `flag` raises its deadline flag. */
function run(bytes: Uint8Array, imports: (raise: () => void) => WebAssembly.Imports = () => ({})) {
  let flag: Int32Array | null = null;
  const raise = () => Atomics.store(flag as Int32Array, 0, 1);
  const instance = new WebAssembly.Instance(
    new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>),
    imports(raise),
  );
  const ex = instance.exports;
  flag = new Int32Array((ex[DEADLINE_EXPORT] as WebAssembly.Memory).buffer);
  return { ex, raise };
}

/** Lines of `text` that are the deadline check (an atomic load of the flag memory). */
function checks(text: string): number {
  return text.split("\n").filter((l) => l.trim() === "i32.atomic.load").length;
}

/** Whether the instruction on each line starting with `op` comes right after a check. */
function guarded(text: string, op: string): boolean[] {
  const lines = text.split("\n").map((l) => l.trim().replace(/\s+;;.*$/, ""));
  const result: boolean[] = [];
  lines.forEach((line, i) => {
    if (line !== op && !line.startsWith(`${op} `)) return;
    const before = lines.slice(Math.max(0, i - 5), i);
    result.push(
      JSON.stringify(before) ===
        JSON.stringify(["i32.const 0", "i32.atomic.load", "if", "unreachable", "end"]),
    );
  });
  return result;
}

function raw(...sections: Uint8Array[]): Uint8Array {
  const size = sections.reduce((n, s) => n + s.length, HEADER.length);
  const out = new Uint8Array(size);
  out.set(HEADER);
  let pos = HEADER.length;
  for (const s of sections) {
    out.set(s, pos);
    pos += s.length;
  }
  return out;
}

const VOID_TYPE = section(1, [1, 0x60, 0, 0]); // one type: () -> ()

function rejects(
  bytes: Uint8Array,
  cls: new (...args: never[]) => RewriteError,
  pattern: RegExp,
  maxPages = 16,
) {
  assert.throws(() => instrumentModule(bytes, { maxPages }), (e: unknown) => {
    assert.ok(e instanceof cls, `${e} is not a ${cls.name}`);
    assert.match((e as Error).message, pattern);
    return true;
  });
}

Deno.test("rewriter: a check at every function entry traps once the flag is raised", () => {
  const { bytes, text } = rewrite(wat(`(module
    (func $seven (result i32) (i32.const 7))
    (func (export "f") (result i32) (call $seven)))`));
  assert.equal(checks(text), 2);
  // The flag memory is added after the module's own (none here) and exported.
  assert.match(text, /\(memory \(;0;\) 1 1 shared\)/);
  assert.match(text, /\(export "__gatehouse_deadline" \(memory 0\)\)/);
  const { ex, raise } = run(bytes);
  assert.equal((ex.f as () => number)(), 7);
  raise();
  assert.throws(() => (ex.f as () => number)(), /unreachable/);
});

Deno.test("rewriter: a check at every loop header stops a loop entered after the deadline", () => {
  const source = wat(`(module
    (import "env" "tick" (func $tick))
    (memory (export "memory") 1)
    (func (export "f")
      (call $tick)
      (loop $l (i32.store (i32.const 0) (i32.const 1)))
      (loop $m (i32.store (i32.const 4) (i32.const 1)))))`);
  const { bytes, text } = rewrite(source);
  assert.equal(checks(text), 3); // entry + two loops
  // The loop body runs when the flag stays down, and does not once it went up in `tick`.
  for (const raiseInTick of [false, true]) {
    const { ex } = run(bytes, (raise) => ({ env: { tick: raiseInTick ? raise : () => {} } }));
    const memory = new Int32Array((ex.memory as WebAssembly.Memory).buffer);
    if (raiseInTick) assert.throws(() => (ex.f as () => void)(), /unreachable/);
    else (ex.f as () => void)();
    assert.deepEqual([memory[0], memory[1]], raiseInTick ? [0, 0] : [1, 1]);
  }
});

Deno.test("rewriter: a check before every bulk memory and table operation, and no other", () => {
  const { text } = rewrite(wat(`(module
    (memory 1)
    (table $t 2 funcref)
    (func $f)
    (elem $p funcref (ref.func $f))
    (data $d "abc")
    (func (param i32)
      (memory.init $d (i32.const 0) (i32.const 0) (i32.const 1))
      (memory.copy (i32.const 0) (i32.const 0) (i32.const 1))
      (memory.fill (i32.const 0) (i32.const 0) (i32.const 1))
      (table.init $t $p (i32.const 0) (i32.const 0) (i32.const 1))
      (table.copy (i32.const 0) (i32.const 0) (i32.const 1))
      (drop (table.grow $t (ref.null func) (i32.const 1)))
      (table.fill $t (i32.const 0) (ref.null func) (i32.const 1))
      (data.drop $d) (elem.drop $p) (drop (table.size $t))
      (drop (i32.trunc_sat_f32_s (f32.const 0)))))`));
  for (const op of ["memory.init", "memory.copy", "memory.fill", "table.init", "table.copy"]) {
    assert.deepEqual(guarded(text, op), [true], op);
  }
  for (const op of ["table.grow", "table.fill"]) assert.deepEqual(guarded(text, op), [true], op);
  for (const op of ["data.drop", "elem.drop", "table.size", "i32.trunc_sat_f32_s"]) {
    assert.deepEqual(guarded(text, op), [false], op);
  }
  assert.equal(checks(text), 2 + 7); // two function entries, seven bulk operations
});

Deno.test("rewriter: a bulk operation after the deadline does not run", () => {
  const { bytes } = rewrite(wat(`(module
    (import "env" "tick" (func $tick))
    (memory (export "memory") 1)
    (table $t (export "table") 1 funcref)
    (func (export "fill") (call $tick) (memory.fill (i32.const 0) (i32.const 9) (i32.const 65536)))
    (func (export "grow") (call $tick) (drop (table.grow $t (ref.null func) (i32.const 5)))))`));
  const { ex } = run(bytes, (raise) => ({ env: { tick: raise } }));
  assert.throws(() => (ex.fill as () => void)(), /unreachable/);
  assert.equal(new Uint8Array((ex.memory as WebAssembly.Memory).buffer)[0], 0);
  const fresh = run(bytes, (raise) => ({ env: { tick: raise } }));
  assert.throws(() => (fresh.ex.grow as () => void)(), /unreachable/);
  assert.equal((fresh.ex.table as WebAssembly.Table).length, 1);
});

Deno.test("rewriter: memory maxima are lowered to max_memory; memory.grow past it fails", () => {
  const module = (limits: string) =>
    wat(`(module (memory (export "memory") ${limits})
      (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))`);
  // No maximum: the cap (16 pages) becomes it. Above the cap: lowered. Below: kept.
  for (const [limits, max] of [["1", 16], ["1 100", 16], ["2 8", 8]] as const) {
    const { bytes, text } = rewrite(module(limits));
    assert.match(text, new RegExp(`\\(memory \\(;0;\\) ${limits.split(" ")[0]} ${max}\\)`));
    const { ex } = run(bytes);
    const grow = ex.grow as (n: number) => number;
    assert.equal(grow(max), -1);
    assert.notEqual(grow(max - Number(limits.split(" ")[0])), -1);
    assert.throws(() => (ex.memory as WebAssembly.Memory).grow(1), RangeError);
  }
});

Deno.test("rewriter: table maxima are lowered to max_table_elements; table.grow past it fails", () => {
  const { bytes, text } = rewrite(
    wat(`(module (table $t (export "table") 10 funcref)
      (func (export "grow") (param i32) (result i32)
        (table.grow $t (ref.null func) (local.get 0))))`),
    16,
    100,
  );
  assert.match(text, /\(table \(;0;\) 10 100 funcref\)/);
  const { ex } = run(bytes);
  const grow = ex.grow as (n: number) => number;
  assert.equal(grow(1_000_000), -1);
  assert.equal(grow(91), -1);
  assert.equal(grow(90), 10);
  assert.throws(() => (ex.table as WebAssembly.Table).grow(1), RangeError);
  // A declared maximum under the cap is kept; the default cap is 65,536.
  const kept = rewrite(wat(`(module (table 5 20 funcref))`), 16, 100);
  assert.match(kept.text, /\(table \(;0;\) 5 20 funcref\)/);
  const byDefault = rewrite(wat(`(module (table 5 funcref))`));
  assert.match(byDefault.text, /\(table \(;0;\) 5 65536 funcref\)/);
});

Deno.test("rewriter: several memories or tables share one cap, in index order", () => {
  // Cap 50; initial sizes 10 + 20 + 5 = 35 leave 15 to grow. Memory 0 (no maximum) takes all
  // 15 → 25; memory 1 declared 30 but none is left → 20; memory 2 → 5. Sum: 50.
  const memories = rewrite(wat(`(module (memory 10) (memory 20 30) (memory 5))`), 50);
  for (const [i, limits] of ["10 25", "20 20", "5 5", "1 1 shared"].entries()) {
    assert.match(memories.text, new RegExp(`\\(memory \\(;${i};\\) ${limits}\\)`));
  }
  // Memory 0 keeps its declared 12 (grows 2, 13 left); memory 1 keeps 30 (grows 10, 3 left);
  // memory 2 gets 5 + 3 = 8. Sum: 50.
  const declared = rewrite(wat(`(module (memory 10 12) (memory 20 30) (memory 5))`), 50);
  for (const [i, limits] of ["10 12", "20 30", "5 8"].entries()) {
    assert.match(declared.text, new RegExp(`\\(memory \\(;${i};\\) ${limits}\\)`));
  }
  const tables = rewrite(
    wat(`(module (table 10 funcref) (table 20 30 externref) (table 5 funcref))`),
    16,
    50,
  );
  for (const [i, limits] of ["10 25 funcref", "20 20 externref", "5 5 funcref"].entries()) {
    assert.match(tables.text, new RegExp(`\\(table \\(;${i};\\) ${limits}\\)`));
  }
  // Each fits alone, together they do not: 3 × 16 pages against 32 pages.
  rejects(
    wat(`(module (memory 16) (memory 16) (memory 16))`),
    LimitError,
    /^memories start at 3 MiB together \(3 memories\), above max_memory \(2 MiB\)$/,
    32,
  );
  assert.throws(
    () =>
      instrumentModule(wat(`(module (table 40 funcref) (table 40 funcref))`), {
        maxPages: 16,
        maxTableElements: 64,
      }),
    /^RewriteError: tables start at 80 elements together \(2 tables\), above max_table_elements \(64\)$/,
  );
});

Deno.test("rewriter: initial sizes above the caps are refused", () => {
  rejects(
    wat(`(module (table 100000 funcref))`),
    LimitError,
    /^table 0 starts at 100000 elements, above max_table_elements \(65536\)$/,
  );
  rejects(
    wat(`(module (memory 32))`),
    LimitError,
    /^memory 0 starts at 2 MiB, above max_memory \(1 MiB\)$/,
  );
  // The whole 32-bit address space is refused even when max_memory would allow it.
  rejects(
    wat(`(module (memory 65536))`),
    LimitError,
    /^memory 0 starts at 65536 pages \(4 GiB\), the whole 32-bit address space$/,
    65536,
  );
});

Deno.test("rewriter: shared memories are refused", () => {
  rejects(
    wat(`(module (memory 1 1 shared))`),
    FeatureError,
    /^declares a shared memory \(threads are not supported\)$/,
  );
  rejects(
    wat(`(module (import "env" "m" (memory 1 1 shared)))`),
    FeatureError,
    /^imports a shared memory \(threads are not supported\)$/,
  );
});

Deno.test("rewriter: atomic wait and notify are refused, other atomics kept", () => {
  const ops = {
    "memory.atomic.notify": "(drop (memory.atomic.notify (i32.const 0) (i32.const 1)))",
    "memory.atomic.wait32":
      "(drop (memory.atomic.wait32 (i32.const 0) (i32.const 0) (i64.const -1)))",
    "memory.atomic.wait64":
      "(drop (memory.atomic.wait64 (i32.const 0) (i64.const 0) (i64.const -1)))",
  };
  for (const [name, code] of Object.entries(ops)) {
    // Code body 2: the third defined function.
    rejects(
      wat(`(module (memory 1) (func) (func) (func ${code}))`),
      FeatureError,
      new RegExp(`^uses ${name} in code body 2 \\(threads are not supported\\)$`),
    );
  }
  const { bytes, text } = rewrite(wat(`(module (memory (export "memory") 1)
    (func (export "f") (result i32)
      (atomic.fence)
      (i32.atomic.store (i32.const 0) (i32.const 5))
      (drop (i32.atomic.rmw.add (i32.const 0) (i32.const 2)))
      (i32.atomic.rmw.cmpxchg (i32.const 0) (i32.const 7) (i32.const 9))))`));
  assert.match(text, /i32\.atomic\.rmw\.cmpxchg/);
  assert.equal((run(bytes).ex.f as () => number)(), 7);
});

Deno.test("rewriter: counts above the fixed caps are refused, counts at them pass", () => {
  const functions = (n: number) =>
    raw(
      VOID_TYPE,
      section(3, repeated(n, [0])),
      section(10, repeated(n, [2, 0, 0x0b])),
    );
  rejects(
    functions(MAX_FUNCTIONS + 1),
    LimitError,
    new RegExp(`^has ${MAX_FUNCTIONS + 1} functions, above the limit of ${MAX_FUNCTIONS}`),
  );
  // The load-latency test module has 200,000 trivial functions; it must keep loading.
  const many = rewrite(functions(200_000));
  assert.ok(WebAssembly.validate(many.bytes as Uint8Array<ArrayBuffer>));
  const globals = (n: number) => raw(section(6, repeated(n, [0x7f, 0x00, 0x41, 0x00, 0x0b])));
  rejects(globals(MAX_GLOBALS + 1), LimitError, /has 100001 globals, above the limit of 100000/);
  rewrite(globals(MAX_GLOBALS));
  // Passive, empty data segments; the data count section announces the same number.
  const data = (n: number) => raw(section(12, u32(n)), section(11, repeated(n, [1, 0])));
  rejects(data(MAX_DATA_SEGMENTS + 1), LimitError, /data segments, above the limit of 20000/);
  rewrite(data(MAX_DATA_SEGMENTS));
  // Passive, empty element segments (flags 1, elemkind funcref, no items).
  const elements = (n: number) => raw(section(9, repeated(n, [1, 0, 0])));
  rejects(elements(MAX_ELEMENT_SEGMENTS + 1), LimitError, /element segments, above the limit/);
  rewrite(elements(MAX_ELEMENT_SEGMENTS));
  // One passive segment of `n` references to function 0.
  const items = (n: number) =>
    raw(
      VOID_TYPE,
      section(3, [1, 0]),
      section(9, [1, 1, 0, ...u32(n), ...new Uint8Array(n)]),
      section(10, [1, 2, 0, 0x0b]),
    );
  rejects(items(MAX_ELEMENT_ITEMS + 1), LimitError, /has 1000001 element segment items/);
  rewrite(items(MAX_ELEMENT_ITEMS));
});

Deno.test("rewriter: every element segment form and a table initialiser are walked", () => {
  const { bytes, text } = rewrite(wat(`(module
    (table $t (export "t") 4 funcref)
    (table $u 2 funcref)
    (func $f (result i32) (i32.const 3))
    (elem (i32.const 0) $f)
    (elem $p funcref (ref.func $f) (ref.null func))
    (elem declare func $f)
    (elem (table $u) (i32.const 1) func $f)
    (elem (table $t) (i32.const 2) funcref (ref.func $f)))`));
  assert.match(text, /\(table \(;0;\) 4 65534 funcref\)/);
  assert.match(text, /\(table \(;1;\) 2 2 funcref\)/);
  const table = run(bytes).ex.t as WebAssembly.Table;
  assert.equal((table.get(2) as () => number)(), 3);
  // A table with an initialiser expression (`0x40 0x00 reftype limits expr`), hand-encoded
  // as wabt cannot write one: 2 elements, all `ref.func 0`.
  const initialised = raw(
    VOID_TYPE,
    section(3, [1, 0]),
    section(4, [1, 0x40, 0x00, 0x70, 0x00, 2, 0xd2, 0x00, 0x0b]),
    section(7, [1, 1, 0x74, 0x01, 0]),
    section(10, [1, 2, 0, 0x0b]),
  );
  const out = instrumentModule(initialised, { maxPages: 16, maxTableElements: 10 });
  const t = run(out.bytes).ex.t as WebAssembly.Table;
  assert.equal(t.length, 2);
  assert.equal(typeof t.get(1), "function");
  t.grow(8);
  assert.throws(() => t.grow(1), RangeError);
});

Deno.test("rewriter: malformed input is a RewriteError, never another exception", () => {
  const base = wat(`(module (memory 1) (func (export "f") (loop (br 0))))`);
  // Cut at a section boundary, the prefix is a (smaller) module; anywhere else it is refused.
  const accepted: number[] = [];
  for (let cut = 0; cut < base.length; cut++) {
    try {
      instrumentModule(base.subarray(0, cut), { maxPages: 16 });
      accepted.push(cut);
    } catch (e) {
      assert.ok(e instanceof RewriteError, `cut at ${cut}: ${e}`);
    }
  }
  // The 8-octet header, then the type (6 octets), function (4), memory (5) and export (7)
  // sections; the code section runs to the end (41).
  assert.equal(base.length, 41);
  assert.deepEqual(accepted, [8, 14, 18, 23, 30]);
  // A name that is not UTF-8, and a code body whose size points past the section.
  const badName = raw(section(7, [1, 1, 0xff, 0x00, 0]));
  assert.throws(() => instrumentModule(badName, { maxPages: 16 }), /not valid UTF-8/);
  const pastEnd = raw(VOID_TYPE, section(3, [1, 0]), section(10, [1, 9, 0, 0x0b]));
  assert.throws(() => instrumentModule(pastEnd, { maxPages: 16 }), RewriteError);
});
