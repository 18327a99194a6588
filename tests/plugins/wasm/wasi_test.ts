import assert from "node:assert/strict";
import { Errno, wallNow, Wasi } from "../../../src/plugins/wasm/wasi.ts";

const SUBS = 0;
const EVENTS = 1024;
const NEVENTS = 2048;

type Sub = { userdata: number; fd?: number; ns?: number };
type Imports = Record<string, CallableFunction>;

/** A Wasi bound to a fresh memory of `pages` pages; the lines it logs are kept in `lines`. */
function bound(pages = 1, o: { deadline?: number; flag?: Int32Array } = {}) {
  const lines: string[] = [];
  const memory = new WebAssembly.Memory({ initial: pages });
  const wasi = new Wasi({
    log: (_l, _s, text) => lines.push(text),
    deadline: () => o.deadline ?? 0,
    flag: () => o.flag ?? null,
  });
  wasi.bind(memory);
  const imports = wasi.imports();
  return {
    wasi,
    memory,
    lines,
    view: new DataView(memory.buffer),
    preview1: imports.wasi_snapshot_preview1 as Imports,
    gatehouse: imports.gatehouse as Imports,
  };
}

// Runs poll_oneoff over `subs` with the given deadline; returns [errno, fired userdata, errnos].
function poll(subs: Sub[], deadlineMs: number): [number, number[], number[]] {
  const { view, preview1 } = bound(1, { deadline: deadlineMs });
  subs.forEach((s, i) => {
    const at = SUBS + i * 48;
    view.setBigUint64(at, BigInt(s.userdata), true);
    view.setUint8(at + 8, s.fd === undefined ? 0 : 1); // clock : fd_read
    if (s.fd === undefined) {
      view.setUint32(at + 16, 1, true); // monotonic
      view.setBigUint64(at + 24, BigInt(s.ns ?? 0), true);
    } else {
      view.setUint32(at + 16, s.fd, true);
    }
  });
  const errno = preview1.poll_oneoff!(SUBS, EVENTS, subs.length, NEVENTS) as number;
  const n = view.getUint32(NEVENTS, true);
  const ids: number[] = [];
  const errnos: number[] = [];
  for (let i = 0; i < n; i++) {
    ids.push(Number(view.getBigUint64(EVENTS + i * 32, true)));
    errnos.push(view.getUint16(EVENTS + i * 32 + 8, true));
  }
  return [errno, ids, errnos];
}

Deno.test("wasi poll_oneoff: only the clock that came due is reported", () => {
  const [errno, ids, errnos] = poll(
    [{ userdata: 7, ns: 1e6 }, { userdata: 8, ns: 60e9 }],
    wallNow() + 10_000,
  );
  assert.equal(errno, Errno.success);
  assert.deepEqual(ids, [7]);
  assert.deepEqual(errnos, [Errno.success]);
});

Deno.test("wasi poll_oneoff: an fd subscription fails at once, a pending clock is not reported", () => {
  const [errno, ids, errnos] = poll(
    [{ userdata: 1, ns: 60e9 }, { userdata: 2, fd: 0 }],
    wallNow() + 10_000,
  );
  assert.equal(errno, Errno.success);
  assert.deepEqual(ids, [2]);
  assert.deepEqual(errnos, [Errno.badf]);
});

Deno.test("wasi poll_oneoff: a sleep cut short by the deadline reports no clock", () => {
  const [errno, ids] = poll([{ userdata: 3, ns: 60e9 }], wallNow() + 5);
  assert.equal(errno, Errno.success);
  assert.deepEqual(ids, []);
});

// Runs fd_write(fd, iovecs) over the given chunks; returns the lines logged and bytes written.
function write(
  fd: number,
  chunks: (string | Uint8Array)[],
  memoryPages = 1,
): { lines: string[]; written: number; wasi: Wasi } {
  const { wasi, memory, lines, view, preview1 } = bound(memoryPages);
  const bytes = new Uint8Array(memory.buffer);
  let data = 1024;
  chunks.forEach((chunk, i) => {
    const b = typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk;
    bytes.set(b, data);
    view.setUint32(16 + i * 8, data, true);
    view.setUint32(20 + i * 8, b.length, true);
    data += b.length;
  });
  assert.equal(preview1.fd_write!(fd, 16, chunks.length, 8), Errno.success);
  return { lines, written: view.getUint32(8, true), wasi };
}

Deno.test("wasi fd_write: lines split across iovecs and UTF-8 sequences come out whole", () => {
  const euro = new TextEncoder().encode("€"); // 3 bytes, split across two iovecs
  const { lines, written, wasi } = write(1, [
    "one\ntw",
    "o\nthree ",
    euro.subarray(0, 1),
    euro.subarray(1),
  ]);
  assert.deepEqual(lines, ["one", "two"]);
  assert.equal(written, 6 + 8 + 1 + 2);
  wasi.flush();
  assert.deepEqual(lines, ["one", "two", "three €"]);
});

Deno.test("wasi fd_write: an over-long line keeps its first 4096 bytes, the rest up to its newline is dropped", () => {
  const { lines, written } = write(2, ["x".repeat(5000), "y".repeat(3000) + "\nnext\n"]);
  assert.deepEqual(lines, ["x".repeat(4096), "next"]);
  assert.equal(written, 5000 + 3000 + 6);
});

Deno.test("wasi fd_write: writing a whole large memory many times is a short write of one line", () => {
  // 64 iovecs over a 16 MiB memory (1 GiB in all): the old layer decoded all of it to text.
  const pages = 256;
  const { wasi, lines, view, preview1 } = bound(pages);
  for (let i = 0; i < 64; i++) {
    view.setUint32(16 + i * 8, 0, true);
    view.setUint32(20 + i * 8, pages * 65536, true);
  }
  const before = Deno.memoryUsage().heapUsed;
  const started = performance.now();
  const fn = preview1.fd_write!;
  assert.equal(fn(1, 16, 64, 8), Errno.success);
  const ms = performance.now() - started;
  const grown = Deno.memoryUsage().heapUsed - before;
  assert.ok(grown < 16 * 1024 * 1024, `JS heap grew by ${(grown / 2 ** 20).toFixed(0)} MiB`);
  // At most 1 MiB per call (a short write; the module's own loop goes past a deadline check).
  assert.equal(view.getUint32(8, true), 1024 * 1024);
  assert.ok(ms < 100, `one fd_write took ${ms.toFixed(0)} ms`);
  // More iovecs than IOV_MAX: EINVAL, nothing read.
  assert.equal(fn(1, 16, 1025, 8), Errno.inval);
  wasi.flush();
  assert.equal(lines.length, 1);
  assert.equal(lines[0]!.length, 4096);
});

Deno.test("wasi random_get: fills up to 1 MiB; more is EINVAL without touching memory", () => {
  const { memory, preview1 } = bound(64);
  const fn = preview1.random_get!;
  const bytes = new Uint8Array(memory.buffer);
  assert.equal(fn(0, 1024 * 1024), Errno.success);
  assert.ok(bytes.subarray(0, 1024 * 1024).some((b) => b !== 0));
  bytes.fill(0);
  assert.equal(fn(0, 1024 * 1024 + 1), Errno.inval);
  assert.ok(bytes.every((b) => b === 0));
  assert.equal(fn(64 * 65536 - 4, 8), Errno.fault);
});

Deno.test("wasi fd_write: at most 1024 lines per call; the rest is a short write, nothing merged", () => {
  const { lines, written } = write(1, ["a\n".repeat(1500)]);
  assert.equal(lines.length, 1024);
  assert.equal(written, 2 * 1024);
  const again = write(1, ["b\n".repeat(3) + "c"]);
  assert.deepEqual(again.lines, ["b", "b", "b"]);
});

Deno.test("wasi: every implemented host call traps once the deadline flag is up", () => {
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const { preview1, gatehouse } = bound(1, { flag });
  const log = gatehouse.log!;
  assert.equal(preview1.random_get!(0, 8), Errno.success);
  Atomics.store(flag, 0, 1);
  for (
    const call of [
      () => preview1.random_get!(0, 8),
      () => preview1.fd_write!(1, 0, 0, 8),
      () => log(1, 0, 1),
    ]
  ) {
    assert.throws(call, (e: Error) => e.name === "DeadlineReached");
  }
  // Stubs stay errno answers.
  assert.equal(preview1.path_open!(), Errno.notcapable);
});

Deno.test("wasi poll_oneoff: more than 4096 subscriptions is EINVAL", () => {
  assert.equal(bound(8).preview1.poll_oneoff!(0, 0, 4097, 0), Errno.inval);
});
