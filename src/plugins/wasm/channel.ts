/**
 * The call channel between the router's thread and one plugin worker: a small ring of request
 * entries in shared memory, signalled with Atomics.
 *
 * Why not postMessage: a call then costs two event-loop wake-ups plus a structured clone each
 * way (~20 µs round trip on Deno 2.9.6, more under load). Here the worker waits in
 * `Atomics.wait` (a futex) and the router waits with `Atomics.waitAsync`, which never blocks
 * its thread. Bytes are copied straight between an entry's buffer and the instance's memory.
 *
 * Why a ring and not one request at a time: on an idle VM a futex wake-up of a sleeping vCPU
 * costs 30–50 µs, and with one request per worker every call paid two of them, so a worker
 * managed ~1/(round trip) calls/s however fast the plugin (measured: C example 36k calls/s with
 * 2 workers). With up to {@link RING_SIZE} requests queued per worker, one wake-up serves a
 * whole batch under load; the worker also spins briefly before sleeping (see worker.ts).
 *
 * Layout of the control buffer (int32 words): `POSTED` (requests the router has published),
 * `ANSWERED` (answers the worker has published), `STOP`, `SLEEPING` (the router notifies only a sleeping worker), `WAITING` (the worker notifies
 * only a waiting router); then per entry `STATE`, `LENGTH`,
 * `STATUS`, `LOGS` and the deadline as a float64. Each entry has its own growable data buffer,
 * holding its request and then, written over it, its answer. Both sides count requests with
 * wrapping int32 sequence numbers; request `seq` lives in entry `seq % RING_SIZE`, answers come
 * strictly in order, and an entry is reused only after the router has read its answer.
 *
 * An entry the worker has not started yet can be taken back by the router (`cancel`, a
 * compare-and-swap against the worker's `claim`), so a call queued behind a slow one can move to
 * another worker; the worker then answers it `skipped` without running it, as it does a request
 * whose deadline has passed before it got to it.
 *
 * Log lines still travel as messages, so they could be seen after the answer of the call that
 * wrote them; each answer carries how many the worker had posted, and the router holds the
 * answer back until it has handled that many (a crash message then precedes the failure).
 */

import { type FailureKind, InstanceFailure } from "./instance.ts";

/** Requests that can be queued on one worker's channel. */
export const RING_SIZE = 8;

const POSTED = 0;
const ANSWERED = 1;
const STOP = 2;
const SLEEPING = 3; // the worker is (about to be) in Atomics.wait
const WAITING = 4; // the router has (or is about to have) a waitAsync on ANSWERED armed
const HEADER_WORDS = 6;
// Per entry: 4 int32 words then a float64 (24 bytes, so every float64 stays 8-byte aligned).
const ENTRY_WORDS = 6;
const STATE = 0;
const LENGTH = 1;
const STATUS = 2;
const LOGS = 3;
const DEADLINE_F64 = 2; // in float64 units from the entry start

// Entry states.
const FREE = 0;
const QUEUED = 1;
const CLAIMED = 2;
const CANCELLED = 3;

const INITIAL_BYTES = 16 * 1024;
/** Largest request or answer (a buffer grows on demand up to this; only touched pages cost). */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

const STATUSES = ["ok", "timeout", "trap", "bad_response", "skipped"] as const;

/** What the worker answered; `skipped`: not run (cancelled, or its deadline had passed). */
export type Answer =
  | { readonly ok: true; readonly response: Uint8Array }
  | { readonly ok: false; readonly kind: FailureKind | "skipped"; readonly message: string };

/** The shared buffers of a channel (sent to the worker with `init`). */
export interface ChannelBuffers {
  readonly control: SharedArrayBuffer;
  readonly data: readonly SharedArrayBuffer[];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** One side's view of a channel (the router and the worker each wrap the same buffers). */
export class CallChannel {
  readonly buffers: ChannelBuffers;
  readonly #words: Int32Array;
  readonly #f64: Float64Array;
  // Length-tracking views: they follow a buffer when either side grows it.
  readonly #bytes: Uint8Array[];
  /** Router: the next request number to publish; worker: unused. */
  #posted = 0;
  /** Router: the next answer to read. */
  #read = 0;
  #logsPosted = 0;

  constructor(buffers?: ChannelBuffers) {
    this.buffers = buffers ?? {
      control: new SharedArrayBuffer((HEADER_WORDS + ENTRY_WORDS * RING_SIZE) * 4),
      data: Array.from(
        { length: RING_SIZE },
        () => new SharedArrayBuffer(INITIAL_BYTES, { maxByteLength: MAX_MESSAGE_BYTES }),
      ),
    };
    this.#words = new Int32Array(this.buffers.control);
    this.#f64 = new Float64Array(this.buffers.control);
    this.#bytes = this.buffers.data.map((b) => new Uint8Array(b));
  }

  // ---- router side ----

  /** Requests published and not yet read back. */
  get inFlight(): number {
    return (this.#posted - this.#read) | 0;
  }

  /**
   * Publishes a request and wakes the worker; returns its sequence number. Throws a
   * RangeError if the request exceeds {@link MAX_MESSAGE_BYTES}. Call only with room
   * (`inFlight < RING_SIZE`).
   */
  post(request: Uint8Array, deadline: number): number {
    const seq = this.#posted;
    const w = this.#entry(seq);
    this.#write(seq, request);
    this.#f64[w / 2 + DEADLINE_F64] = deadline;
    Atomics.store(this.#words, w + STATE, QUEUED);
    this.#posted = (seq + 1) | 0;
    Atomics.store(this.#words, POSTED, this.#posted);
    // A worker that is busy or polling needs no wake-up, and a futex wake of a sleeping vCPU
    // costs the router's thread ~20 µs here. (Seq-cst order: either this load sees SLEEPING, or
    // the worker's wait sees the new POSTED and returns at once.)
    if (Atomics.load(this.#words, SLEEPING) !== 0) Atomics.notify(this.#words, POSTED);
    return seq;
  }

  /** Takes back request `seq` if the worker has not started it; it will answer `skipped`. */
  cancel(seq: number): boolean {
    const w = this.#entry(seq) + STATE;
    return Atomics.compareExchange(this.#words, w, QUEUED, CANCELLED) === QUEUED;
  }

  /** Whether the worker has published the answer to `seq` (read or not yet read). */
  isAnswered(seq: number): boolean {
    // Answers are published in order; ANSWERED is one past the last. Wrap-safe difference.
    return ((Atomics.load(this.#words, ANSWERED) - ((seq + 1) | 0)) | 0) >= 0;
  }

  /** The sequence number of the next answer to read. */
  get nextAnswer(): number {
    return this.#read;
  }

  /** Whether the next answer is in. */
  hasAnswer(): boolean {
    return this.#read !== this.#posted && Atomics.load(this.#words, ANSWERED) !== this.#read;
  }

  /** How many log messages the worker had posted before the next answer. */
  logsBeforeAnswer(): number {
    return Atomics.load(this.#words, this.#entry(this.#read) + LOGS);
  }

  /** Reads the next answer and frees its entry (call only when `hasAnswer`). */
  takeAnswer(): Answer {
    const w = this.#entry(this.#read);
    const length = this.#words[w + LENGTH]!;
    const status = STATUSES[this.#words[w + STATUS]!] ?? "trap";
    const bytes = this.#bytes[this.#read & (RING_SIZE - 1)]!.slice(0, length);
    Atomics.store(this.#words, w + STATE, FREE);
    this.#read = (this.#read + 1) | 0;
    if (status === "ok") return { ok: true, response: bytes };
    return { ok: false, kind: status, message: decoder.decode(bytes) };
  }

  /**
   * Resolves once an answer past those already read is published (or {@link stop} is called);
   * returns null when one already is. Never rejects.
   */
  whenAnswered(): Promise<unknown> | null {
    Atomics.store(this.#words, WAITING, 1);
    const wait = Atomics.waitAsync(this.#words, ANSWERED, this.#read);
    return wait.async ? wait.value : null;
  }

  /** Wakes a worker waiting for requests without posting one (see `waitRequest`'s `idle`). */
  nudge(): void {
    Atomics.notify(this.#words, POSTED);
  }

  /** Tells the worker to exit and releases a pending {@link whenAnswered}. */
  stop(): void {
    Atomics.store(this.#words, STOP, 1);
    Atomics.notify(this.#words, POSTED);
    Atomics.notify(this.#words, ANSWERED);
  }

  // ---- worker side ----

  /** Counts a log message the worker posted (see the module comment). */
  countLog(): void {
    this.#logsPosted++;
  }

  /** Whether request `seq` has been published (worker side). */
  hasRequest(seq: number): boolean {
    return Atomics.load(this.#words, POSTED) !== seq;
  }

  /**
   * Waits until request `seq` is published; false when told to stop. Wakes every `idleMs` to
   * re-check (a lost wake-up then costs at most that), and on a {@link nudge}; after each
   * wake-up without a request, `idle` runs (the worker replaces a stopped instance there).
   */
  waitRequest(seq: number, idleMs: number, idle?: () => void): boolean {
    for (;;) {
      if (Atomics.load(this.#words, STOP) !== 0) return false;
      if (Atomics.load(this.#words, POSTED) !== seq) return true;
      Atomics.store(this.#words, SLEEPING, 1);
      Atomics.wait(this.#words, POSTED, seq, idleMs);
      Atomics.store(this.#words, SLEEPING, 0);
      idle?.();
    }
  }

  /** Marks request `seq` as started; false if the router cancelled it first. */
  claim(seq: number): boolean {
    const w = this.#entry(seq) + STATE;
    return Atomics.compareExchange(this.#words, w, QUEUED, CLAIMED) === QUEUED;
  }

  /** Request `seq`'s bytes (a view, valid until its answer is written). */
  request(seq: number): Uint8Array {
    const w = this.#entry(seq);
    return this.#bytes[seq & (RING_SIZE - 1)]!.subarray(0, this.#words[w + LENGTH]!);
  }

  /** Request `seq`'s deadline (see `wallNow`). */
  deadline(seq: number): number {
    return this.#f64[this.#entry(seq) / 2 + DEADLINE_F64]!;
  }

  /**
   * Copies response bytes into `seq`'s entry (called from inside the instance's call, before
   * the module frees them). Throws a `bad_response` failure if they exceed the size limit.
   */
  stage(seq: number, response: Uint8Array): void {
    if (response.length > MAX_MESSAGE_BYTES) {
      throw new InstanceFailure(
        "bad_response",
        `response of ${response.length} bytes exceeds ${MAX_MESSAGE_BYTES}`,
      );
    }
    this.#write(seq, response);
  }

  /** Answers `seq` with the staged response. */
  answerOk(seq: number): void {
    this.#publish(seq, 0);
  }

  /** Answers `seq` with a failure (`skipped`: it was not run). */
  answerFail(seq: number, kind: FailureKind | "skipped", message: string): void {
    this.#write(seq, encoder.encode(message.slice(0, 4096)));
    this.#publish(seq, STATUSES.indexOf(kind));
  }

  #publish(seq: number, status: number): void {
    const w = this.#entry(seq);
    this.#words[w + STATUS] = status;
    this.#words[w + LOGS] = this.#logsPosted;
    Atomics.store(this.#words, ANSWERED, (seq + 1) | 0);
    // One notify per armed wait, not per answer (each costs the worker ~5 µs): the router sets
    // WAITING before it arms a wait, and its wait returns at once if ANSWERED has moved already.
    if (Atomics.compareExchange(this.#words, WAITING, 1, 0) === 1) {
      Atomics.notify(this.#words, ANSWERED);
    }
  }

  // First int32 word of `seq`'s entry (a multiple of 2, so `/ 2` indexes its float64s).
  #entry(seq: number): number {
    return HEADER_WORDS + ENTRY_WORDS * (seq & (RING_SIZE - 1));
  }

  #write(seq: number, bytes: Uint8Array): void {
    if (bytes.length > MAX_MESSAGE_BYTES) {
      throw new RangeError(`message of ${bytes.length} bytes exceeds ${MAX_MESSAGE_BYTES}`);
    }
    const buffer = this.buffers.data[seq & (RING_SIZE - 1)]!;
    if (bytes.length > buffer.byteLength) {
      buffer.grow(Math.min(MAX_MESSAGE_BYTES, Math.max(bytes.length, buffer.byteLength * 2)));
    }
    this.#bytes[seq & (RING_SIZE - 1)]!.set(bytes);
    this.#words[this.#entry(seq) + LENGTH] = bytes.length;
  }
}
