/**
 * The call channel between the router's thread and one plugin worker: a growable
 * SharedArrayBuffer holding one request or answer at a time, signalled with Atomics.
 *
 * Why not postMessage: a call then costs two event-loop wake-ups plus a structured clone each
 * way (~20 µs round trip on Deno 2.9.6, more under load). Here the worker blocks in
 * `Atomics.wait` (a futex) and the router waits with `Atomics.waitAsync`, which never blocks
 * its thread; a round trip measured ~6 µs. Bytes are copied straight between this buffer and
 * the instance's linear memory.
 *
 * Layout: a 32-byte header (int32 words below, the call's deadline as a float64 at byte 24),
 * then the data area. The router writes a request and bumps `REQUEST_SEQ`; the worker writes
 * the answer over the request (it has copied the request into the instance by then) and sets
 * `ANSWER_SEQ` to the same number. `STOP` in `REQUEST_SEQ` asks the worker to exit.
 *
 * Log lines still travel as messages, so they could be seen after the answer of the call that
 * wrote them; each answer carries how many the worker had posted, and the router holds the
 * answer back until it has handled that many (a crash message then precedes the failure).
 */

import { type FailureKind, InstanceFailure } from "./instance.ts";

const REQUEST_SEQ = 0;
const ANSWER_SEQ = 1;
const LENGTH = 2; // bytes of request or answer in the data area
const STATUS = 3; // answer: index into STATUSES
const LOGS = 4; // answer: log messages the worker had posted before it
const DEADLINE_F64 = 3; // float64 index (bytes 24..31)
const DATA = 32;

/** `REQUEST_SEQ` value that tells the worker to stop. */
const STOP = -1;
const INITIAL_BYTES = 64 * 1024;
/** Largest request or answer (the buffer grows on demand up to this; only touched pages cost). */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

const STATUSES = ["ok", "timeout", "trap", "bad_response"] as const;

/** What the worker answered. */
export type Answer =
  | { readonly ok: true; readonly response: Uint8Array }
  | { readonly ok: false; readonly kind: FailureKind; readonly message: string };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** One side's view of a channel buffer (the router and the worker each wrap the same one). */
export class CallChannel {
  readonly buffer: SharedArrayBuffer;
  readonly #words: Int32Array;
  readonly #deadline: Float64Array;
  // Length-tracking: follows the buffer when either side grows it.
  readonly #bytes: Uint8Array;
  #logsPosted = 0;

  constructor(buffer?: SharedArrayBuffer) {
    this.buffer = buffer ??
      new SharedArrayBuffer(DATA + INITIAL_BYTES, { maxByteLength: DATA + MAX_MESSAGE_BYTES });
    this.#words = new Int32Array(this.buffer, 0, 6);
    this.#deadline = new Float64Array(this.buffer, 0, 4);
    this.#bytes = new Uint8Array(this.buffer);
  }

  // ---- router side ----

  /**
   * Publishes a request and wakes the worker; returns its sequence number. Throws a
   * RangeError if the request exceeds {@link MAX_MESSAGE_BYTES}.
   */
  post(request: Uint8Array, deadline: number): number {
    this.#write(request);
    this.#deadline[DEADLINE_F64] = deadline;
    const seq = (Atomics.load(this.#words, REQUEST_SEQ) + 1) & 0x3fffffff;
    Atomics.store(this.#words, REQUEST_SEQ, seq);
    Atomics.notify(this.#words, REQUEST_SEQ);
    return seq;
  }

  /** Whether the answer to `seq` is in. */
  answered(seq: number): boolean {
    return Atomics.load(this.#words, ANSWER_SEQ) === seq;
  }

  /**
   * Resolves once `ANSWER_SEQ` moves past `previous` (or {@link wake} is called), or returns
   * null when it already has. Never rejects.
   */
  whenAnswered(previous: number): Promise<unknown> | null {
    const wait = Atomics.waitAsync(this.#words, ANSWER_SEQ, previous);
    return wait.async ? wait.value : null;
  }

  /** The sequence number of the last answer written. */
  get lastAnswer(): number {
    return Atomics.load(this.#words, ANSWER_SEQ);
  }

  /** Reads the answer in the buffer (call only once `answered`). */
  readAnswer(): Answer {
    const length = this.#words[LENGTH]!;
    const status = STATUSES[this.#words[STATUS]!] ?? "trap";
    const bytes = this.#bytes.slice(DATA, DATA + length);
    if (status === "ok") return { ok: true, response: bytes };
    return { ok: false, kind: status, message: decoder.decode(bytes) };
  }

  /** How many log messages the worker had posted before its last answer. */
  get logsBeforeAnswer(): number {
    return Atomics.load(this.#words, LOGS);
  }

  /** Tells the worker to exit and releases a pending {@link whenAnswered}. */
  stop(): void {
    Atomics.store(this.#words, REQUEST_SEQ, STOP);
    Atomics.notify(this.#words, REQUEST_SEQ);
    Atomics.notify(this.#words, ANSWER_SEQ);
  }

  // ---- worker side ----

  /** Counts a log message the worker posted (see the module comment). */
  countLog(): void {
    this.#logsPosted++;
  }

  /**
   * Blocks until a request after `seq` arrives; returns its number, or null when told to
   * stop. Wakes every `idleMs` to re-check (a lost wake-up then costs at most that).
   */
  nextRequest(seq: number, idleMs: number): number | null {
    for (;;) {
      const current = Atomics.load(this.#words, REQUEST_SEQ);
      if (current === STOP) return null;
      if (current !== seq) return current;
      Atomics.wait(this.#words, REQUEST_SEQ, seq, idleMs);
    }
  }

  /** The current request's bytes (a view into the buffer, valid until the answer is written). */
  request(): Uint8Array {
    return this.#bytes.subarray(DATA, DATA + this.#words[LENGTH]!);
  }

  /** The current request's deadline (see `wallNow`). */
  deadline(): number {
    return this.#deadline[DEADLINE_F64]!;
  }

  /**
   * Copies response bytes into the buffer (called from inside the instance's call, before the
   * module frees them). Throws a `bad_response` failure if they exceed the size limit.
   */
  stage(response: Uint8Array): void {
    if (response.length > MAX_MESSAGE_BYTES) {
      throw new InstanceFailure(
        "bad_response",
        `response of ${response.length} bytes exceeds ${MAX_MESSAGE_BYTES}`,
      );
    }
    this.#write(response);
  }

  /** Answers `seq` with the staged response. */
  answerOk(seq: number): void {
    this.#publish(seq, 0);
  }

  /** Answers `seq` with a failure. */
  answerFail(seq: number, kind: FailureKind, message: string): void {
    this.#write(encoder.encode(message.slice(0, 4096)));
    this.#publish(seq, STATUSES.indexOf(kind));
  }

  #publish(seq: number, status: number): void {
    this.#words[STATUS] = status;
    this.#words[LOGS] = this.#logsPosted;
    Atomics.store(this.#words, ANSWER_SEQ, seq);
    Atomics.notify(this.#words, ANSWER_SEQ);
  }

  #write(bytes: Uint8Array): void {
    if (bytes.length > MAX_MESSAGE_BYTES) {
      throw new RangeError(`message of ${bytes.length} bytes exceeds ${MAX_MESSAGE_BYTES}`);
    }
    const need = DATA + bytes.length;
    if (need > this.buffer.byteLength) {
      this.buffer.grow(
        Math.min(DATA + MAX_MESSAGE_BYTES, Math.max(need, this.buffer.byteLength * 2)),
      );
    }
    this.#bytes.set(bytes, DATA);
    this.#words[LENGTH] = bytes.length;
  }
}
