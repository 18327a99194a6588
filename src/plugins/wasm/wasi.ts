/**
 * The WASI preview1 surface a plugin instance sees, plus the `gatehouse.log` host import
 * (docs/plugins.md §5.4 "WASI surface"). Nothing here can throw into the module except
 * `proc_exit`: every bad pointer answers EFAULT, every file or socket call answers
 * EBADF/ENOTCAPABLE/ENOSYS.
 */

import type { ImportInfo } from "./rewriter.ts";

/** WASI errno values used here (wasi_snapshot_preview1 `errno`). */
export const Errno = {
  success: 0,
  badf: 8,
  fault: 21,
  inval: 28,
  nosys: 52,
  notcapable: 76,
} as const;

/** Log levels of `gatehouse.log` and of stdout (info) / stderr (warn) lines. */
export type WasiLogLevel = 0 | 1 | 2 | 3;

/** What a WASI instance needs from whoever runs it. */
export interface WasiEnv {
  /** A finished log line from the module (stdout, stderr or `gatehouse.log`). */
  log(level: WasiLogLevel, source: "stdout" | "stderr" | "plugin", text: string): void;
  /** Wall-clock deadline of the running call or initialisation, ms (see {@link wallNow}). */
  deadline(): number;
  /** The instance's deadline flag, if it has one; `poll_oneoff` sleeps on it. */
  flag(): Int32Array | null;
}

/** Thrown by a host function called once the deadline flag is up; the module traps. */
export class DeadlineReached extends Error {
  override readonly name = "DeadlineReached";
  constructor() {
    super("deadline reached in a host call");
  }
}

/** Thrown by `proc_exit` to unwind the module; the instance is then discarded. */
export class ProcExit extends Error {
  override readonly name = "ProcExit";
  constructor(readonly code: number) {
    super(`proc_exit(${code})`);
  }
}

/** Milliseconds since the epoch with sub-millisecond precision, comparable across workers. */
export function wallNow(): number {
  return performance.timeOrigin + performance.now();
}

const MAX_LINE = 4096;
/**
 * Bytes one `fd_write` takes in at most; more is a short write (`nwritten` says how much), which
 * libc, Go and Rust writers continue in a loop — whose header is a deadline check. Without it, one
 * call could make this host code scan the whole memory thousands of times, beyond any deadline.
 */
const MAX_WRITE_BYTES = 1024 * 1024;
/**
 * Bytes one `random_get` fills at most; more is EINVAL (it has no short reads). Filling a 4 GiB
 * memory would keep this host code busy for seconds past any deadline; seeding takes 32 bytes.
 */
const MAX_RANDOM_BYTES = 1024 * 1024;
/** Lines one `fd_write` emits at most; the rest is a short write (1 MiB of `\n` took ~0.45 s). */
const MAX_WRITE_LINES = 1024;
/** Subscriptions one `poll_oneoff` may pass; more is EINVAL (libc passes one or two). */
const MAX_SUBSCRIPTIONS = 4096;
/** Iovecs one `fd_write` may pass (Linux's `IOV_MAX`); more is EINVAL. */
const MAX_IOVECS = 1024;

// Every preview1 function, with the errno its stub answers. Implemented ones are overridden.
const STUBS: Readonly<Record<string, number>> = {
  fd_advise: Errno.badf,
  fd_allocate: Errno.badf,
  fd_close: Errno.badf,
  fd_datasync: Errno.badf,
  fd_fdstat_get: Errno.badf,
  fd_fdstat_set_flags: Errno.badf,
  fd_fdstat_set_rights: Errno.badf,
  fd_filestat_get: Errno.badf,
  fd_filestat_set_size: Errno.badf,
  fd_filestat_set_times: Errno.badf,
  fd_pread: Errno.badf,
  fd_prestat_get: Errno.badf, // EBADF ends wasi-libc's preopen scan: there are none
  fd_prestat_dir_name: Errno.badf,
  fd_pwrite: Errno.badf,
  fd_read: Errno.badf,
  fd_readdir: Errno.badf,
  fd_renumber: Errno.badf,
  fd_seek: Errno.badf,
  fd_sync: Errno.badf,
  fd_tell: Errno.badf,
  fd_write: Errno.badf,
  path_create_directory: Errno.notcapable,
  path_filestat_get: Errno.notcapable,
  path_filestat_set_times: Errno.notcapable,
  path_link: Errno.notcapable,
  path_open: Errno.notcapable,
  path_readlink: Errno.notcapable,
  path_remove_directory: Errno.notcapable,
  path_rename: Errno.notcapable,
  path_symlink: Errno.notcapable,
  path_unlink_file: Errno.notcapable,
  sock_accept: Errno.badf,
  sock_recv: Errno.badf,
  sock_send: Errno.badf,
  sock_shutdown: Errno.badf,
  proc_raise: Errno.nosys,
  args_get: Errno.success,
  args_sizes_get: Errno.success,
  environ_get: Errno.success,
  environ_sizes_get: Errno.success,
  clock_res_get: Errno.success,
  clock_time_get: Errno.success,
  poll_oneoff: Errno.success,
  proc_exit: Errno.success,
  random_get: Errno.success,
  sched_yield: Errno.success,
};

/** The WASI module name. */
export const WASI_MODULE = "wasi_snapshot_preview1";
/** The host module of this project's extensions. */
export const GATEHOUSE_MODULE = "gatehouse";

/**
 * Why an import cannot be satisfied, or `null` when it can. Used at load so that linking never
 * fails later and no host function is ever called with a signature it cannot answer.
 */
export function importProblem(imp: ImportInfo): string | null {
  const what = `${imp.module}.${imp.name}`;
  if (imp.kind !== "func") return `imports ${imp.kind} "${what}"; only functions are provided`;
  const results = imp.type?.results.join(",") ?? "?";
  if (imp.module === WASI_MODULE) {
    if (!(imp.name in STUBS)) return `imports unknown WASI function "${what}"`;
    const want = imp.name === "proc_exit" ? "" : "i32";
    return results === want ? null : `imports "${what}" with an unexpected signature`;
  }
  if (imp.module === GATEHOUSE_MODULE && imp.name === "log") {
    const params = imp.type?.params.join(",");
    return params === "i32,i32,i32" && results === ""
      ? null
      : `imports "${what}" with an unexpected signature (want (i32, i32, i32) -> ())`;
  }
  return `imports unknown "${what}"; only ${WASI_MODULE} and ${GATEHOUSE_MODULE}.log are provided`;
}

/**
 * The unterminated line of one output stream. Only the first {@link MAX_LINE} bytes of a line
 * are kept (and decoded); the rest of an over-long line is dropped up to its newline. So a module
 * that writes its whole memory in one `fd_write` costs the worker one short line, not a string of
 * that size (64 iovecs over a 16 MiB memory once asked the JS heap for ~1 GiB).
 */
class LineBuffer {
  #text = "";
  #kept = 0;
  readonly #decoder = new TextDecoder();

  /** Whether nothing is buffered. */
  get empty(): boolean {
    return this.#kept === 0;
  }

  /**
   * Adds `bytes` from `from` on; returns where the rest starts when a newline ended the line
   * (then {@link take} it before adding more), or -1 when all of them were taken in.
   */
  add(bytes: Uint8Array, from: number): number {
    const nl = bytes.indexOf(0x0a, from);
    const end = nl < 0 ? bytes.length : nl;
    const keep = Math.min(end - from, MAX_LINE - this.#kept);
    if (keep > 0) {
      this.#text += this.#decoder.decode(bytes.subarray(from, from + keep), { stream: true });
      this.#kept += keep;
    }
    return nl < 0 ? -1 : nl + 1;
  }

  /** The line so far (an incomplete UTF-8 sequence at its end decodes as U+FFFD), emptied. */
  take(): string {
    const text = this.#text + this.#decoder.decode();
    this.#text = "";
    this.#kept = 0;
    return text;
  }
}

/** One instance's WASI state: the import object and the per-stream line buffers. */
export class Wasi {
  #memory: WebAssembly.Memory | null = null;
  #exitCode: number | null = null;
  readonly #lines: Record<"stdout" | "stderr", LineBuffer> = {
    stdout: new LineBuffer(),
    stderr: new LineBuffer(),
  };
  readonly #env: WasiEnv;
  readonly #decoder = new TextDecoder();

  constructor(env: WasiEnv) {
    this.#env = env;
  }

  /** Binds the instance's exported memory (after instantiation). */
  bind(memory: WebAssembly.Memory): void {
    this.#memory = memory;
  }

  /** The code passed to `proc_exit`, once the module called it. */
  get exitCode(): number | null {
    return this.#exitCode;
  }

  /** Flushes unterminated stdout/stderr text as final lines (instance end). */
  flush(): void {
    for (const source of ["stdout", "stderr"] as const) {
      const line = this.#lines[source];
      if (!line.empty) this.#emit(source, line.take());
    }
  }

  /** The import object for `WebAssembly.Instance`. */
  imports(): WebAssembly.Imports {
    const wasi: Record<string, (...args: never[]) => number | void> = {};
    for (const [name, errno] of Object.entries(STUBS)) wasi[name] = () => errno;
    for (const [name, fn] of Object.entries(this.#implemented())) wasi[name] = this.#checked(fn);
    return {
      [WASI_MODULE]: wasi,
      [GATEHOUSE_MODULE]: {
        log: this.#checked((level: number, ptr: number, len: number): void => {
          const bytes = this.#read(ptr, Math.min(len >>> 0, MAX_LINE));
          if (bytes === null) return;
          const lvl = (level >= 0 && level <= 3 ? level : 1) as WasiLogLevel;
          this.#emitLevel(lvl, "plugin", this.#decoder.decode(bytes));
        }),
      },
    };
  }

  // Host code is a call the injected checks cannot see into: each implemented import first
  // traps if the deadline flag is up, so straight-line calls to host functions stop at the
  // deadline like loops do (each call's own work is bounded, see the caps above).
  #checked<A extends never[], R>(fn: (...args: A) => R): (...args: A) => R {
    return (...args: A): R => {
      const flag = this.#env.flag();
      if (flag !== null && Atomics.load(flag, 0) !== 0) throw new DeadlineReached();
      return fn(...args);
    };
  }

  #implemented(): Record<string, (...args: never[]) => number | void> {
    const zeroPair = (a: number, b: number) => this.#u32s(a, 0, b, 0);
    return {
      args_get: () => Errno.success,
      environ_get: () => Errno.success,
      args_sizes_get: zeroPair,
      environ_sizes_get: zeroPair,
      clock_res_get: (id: number, out: number) => this.#clockRes(id, out),
      clock_time_get: (id: number, _precision: bigint, out: number) => this.#clockTime(id, out),
      random_get: (ptr: number, len: number) => this.#random(ptr, len),
      sched_yield: () => Errno.success,
      proc_exit: (code: number) => {
        // Raising the flag makes the next injected check trap even if the module catches this.
        this.#exitCode = code;
        const flag = this.#env.flag();
        if (flag) Atomics.store(flag, 0, 1);
        throw new ProcExit(code);
      },
      fd_write: (fd: number, iovs: number, n: number, out: number) =>
        this.#fdWrite(fd, iovs, n, out),
      fd_fdstat_get: (fd: number, out: number) => this.#fdstat(fd, out),
      poll_oneoff: (subs: number, events: number, n: number, out: number) =>
        this.#poll(subs, events, n, out),
    };
  }

  #view(ptr: number, len: number): DataView | null {
    const buffer = this.#memory?.buffer;
    if (!buffer) return null;
    ptr >>>= 0;
    len >>>= 0;
    if (ptr + len > buffer.byteLength) return null;
    return new DataView(buffer, ptr, len);
  }

  // A copy (memory may be shared; TextDecoder refuses shared views).
  #read(ptr: number, len: number): Uint8Array | null {
    const v = this.#view(ptr, len);
    return v && new Uint8Array(v.buffer, v.byteOffset, v.byteLength).slice();
  }

  #u32s(a: number, av: number, b: number, bv: number): number {
    const va = this.#view(a, 4);
    const vb = this.#view(b, 4);
    if (!va || !vb) return Errno.fault;
    va.setUint32(0, av, true);
    vb.setUint32(0, bv, true);
    return Errno.success;
  }

  #clockRes(id: number, out: number): number {
    if (id < 0 || id > 3) return Errno.inval;
    const v = this.#view(out, 8);
    if (!v) return Errno.fault;
    v.setBigUint64(0, 1000n, true);
    return Errno.success;
  }

  #clockTime(id: number, out: number): number {
    if (id < 0 || id > 3) return Errno.inval;
    const v = this.#view(out, 8);
    if (!v) return Errno.fault;
    // 0 = realtime; 1 = monotonic; 2/3 = process/thread CPU time, approximated by monotonic.
    const ms = id === 0 ? wallNow() : performance.now();
    v.setBigUint64(0, BigInt(Math.round(ms * 1e6)), true);
    return Errno.success;
  }

  #random(ptr: number, len: number): number {
    if (len >>> 0 > MAX_RANDOM_BYTES) return Errno.inval;
    const v = this.#view(ptr, len);
    if (!v) return Errno.fault;
    const bytes = new Uint8Array(len >>> 0);
    for (let i = 0; i < bytes.length; i += 65536) {
      crypto.getRandomValues(bytes.subarray(i, Math.min(i + 65536, bytes.length)));
    }
    new Uint8Array(v.buffer, v.byteOffset, v.byteLength).set(bytes);
    return Errno.success;
  }

  #fdstat(fd: number, out: number): number {
    if (fd !== 1 && fd !== 2) return Errno.badf;
    const v = this.#view(out, 24);
    if (!v) return Errno.fault;
    v.setUint8(0, 2); // filetype: character_device
    v.setUint16(2, 0, true); // fdflags
    v.setBigUint64(8, 1n << 6n, true); // rights_base: fd_write
    v.setBigUint64(16, 0n, true);
    return Errno.success;
  }

  #fdWrite(fd: number, iovs: number, n: number, out: number): number {
    if (fd !== 1 && fd !== 2) return Errno.badf;
    const vecs = this.#view(iovs, (n >>> 0) * 8);
    const written = this.#view(out, 4);
    if (!vecs || !written) return Errno.fault;
    if (n >>> 0 > MAX_IOVECS) return Errno.inval;
    const source = fd === 1 ? "stdout" : "stderr";
    const line = this.#lines[source];
    let total = 0;
    let lines = 0;
    for (let i = 0; i < n >>> 0 && total < MAX_WRITE_BYTES; i++) {
      const len = Math.min(vecs.getUint32(i * 8 + 4, true), MAX_WRITE_BYTES - total);
      const bytes = this.#read(vecs.getUint32(i * 8, true), len);
      if (!bytes) return Errno.fault;
      let at = line.add(bytes, 0);
      while (at >= 0 && ++lines < MAX_WRITE_LINES) {
        this.#emit(source, line.take());
        at = line.add(bytes, at);
      }
      if (at >= 0) {
        // The line cap: the last line goes out, the rest is a short write.
        this.#emit(source, line.take());
        total += at;
        break;
      }
      total += len;
    }
    written.setUint32(0, total, true);
    return Errno.success;
  }

  #emit(source: "stdout" | "stderr", text: string): void {
    this.#emitLevel(source === "stdout" ? 1 : 2, source, text);
  }

  // No rate limit here: a count per instance would start afresh with every instance a trapping
  // module gets. The worker (per worker, across instances) and the router (`PluginLog`, per
  // plugin, across workers) limit the lines.
  #emitLevel(level: WasiLogLevel, source: "stdout" | "stderr" | "plugin", text: string): void {
    this.#env.log(level, source, text.length > MAX_LINE ? text.slice(0, MAX_LINE) : text);
  }

  // Sleeps until the earliest clock subscription is due, never past the deadline (the
  // watchdog's notify on the flag wakes the sleep early), then reports the subscriptions that
  // fired: clocks whose time has passed, and fd ones, which fail at once with EBADF (so with
  // any of those there is no sleep). A sleep cut short by the deadline reports no clock.
  #poll(subs: number, events: number, n: number, out: number): number {
    const count = n >>> 0;
    if (count > MAX_SUBSCRIPTIONS) return Errno.inval;
    const sv = this.#view(subs, count * 48);
    const ev = this.#view(events, count * 32);
    const nv = this.#view(out, 4);
    if (!sv || !ev || !nv || count === 0) return count === 0 ? Errno.inval : Errno.fault;
    const start = performance.now();
    // Per subscription: ms from `start` until it fires (fd ones: 0).
    const due: number[] = [];
    let fds = 0;
    let first = Infinity;
    for (let i = 0; i < count; i++) {
      if (sv.getUint8(i * 48 + 8) !== 0) {
        fds++;
        due.push(0);
        continue;
      }
      const timeout = Number(sv.getBigUint64(i * 48 + 24, true)) / 1e6;
      const absolute = (sv.getUint16(i * 48 + 40, true) & 1) !== 0;
      const clockId = sv.getUint32(i * 48 + 16, true);
      const now = clockId === 0 ? wallNow() : performance.now();
      due.push(absolute ? timeout - now : timeout);
      first = Math.min(first, due[i]!);
    }
    if (fds === 0) this.#sleep(Math.min(first, this.#env.deadline() - wallNow()));
    const elapsed = performance.now() - start;
    let fired = 0;
    for (let i = 0; i < count; i++) {
      if (due[i]! > elapsed) continue;
      const tag = sv.getUint8(i * 48 + 8);
      new Uint8Array(ev.buffer, ev.byteOffset + fired * 32, 32).fill(0);
      ev.setBigUint64(fired * 32, sv.getBigUint64(i * 48, true), true);
      ev.setUint16(fired * 32 + 8, tag === 0 ? Errno.success : Errno.badf, true);
      ev.setUint8(fired * 32 + 10, tag);
      fired++;
    }
    nv.setUint32(0, fired, true);
    return Errno.success;
  }

  #sleep(ms: number): void {
    if (!(ms > 0)) return;
    const flag = this.#env.flag();
    const cell = flag ?? new Int32Array(new SharedArrayBuffer(4));
    Atomics.wait(cell, 0, 0, Math.min(ms, 2 ** 31));
  }
}
