/**
 * The framing between the router and a plugin's child process (`wasm.isolation: process`) on
 * the child's stdin/stdout: `u32 length (LE) | u8 type | body`, the length counting type and
 * body. Binary rather than JSON lines: requests and responses are byte strings, and a binary
 * header costs nothing to parse.
 *
 * Router → child: `init` once, then `call`s. Child → router: `ready` or `init_failed`, then
 * `answer`s (in any order), `log` lines, and `abandoned` when the child's own host gave up a
 * worker (the router then kills the process, which frees that thread for good).
 *
 * Everything the child sends is untrusted (the module it runs could have corrupted it), so the
 * router's {@link FrameReader} bounds every frame and rejects anything malformed with a
 * {@link FrameError}; the router treats that as the child failing.
 */

import type { PluginErrorKind } from "../../observability/mod.ts";
import { MAX_MESSAGE_BYTES } from "./channel.ts";
import type { PrepareOptions } from "./prepare.ts";

/**
 * What the child needs to start its instances (the JSON part of the `init` frame). The module
 * travels as the file's bytes: the child checks, rewrites and compiles it itself (`prepare`
 * holds the settings of `checkModule`), so parsing the untrusted module happens in the sandbox too.
 */
export interface ChildInit {
  /** The plugin's name (log lines). */
  readonly name: string;
  /** The load-time checks' settings (see `prepare.ts`). */
  readonly prepare: PrepareOptions;
  /** `wasm.config` as JSON text. */
  readonly config: string;
  readonly instances: number;
  readonly initTimeoutMs: number;
  readonly terminateGraceMs: number;
  /** Test seam: the worker script the child's host starts (a `file:` URL). */
  readonly workerUrl?: string;
}

/** Exit codes of the child (the router logs them). */
export const CHILD_EXIT = {
  /** stdin closed: the router is done with this child. */
  done: 0,
  /** The init frame was missing or the instances did not start. */
  initFailed: 1,
  /** The child's host gave up a worker; the router kills and replaces the child. */
  abandoned: 3,
} as const;

/** How a call ended, as the child reports it. */
export type AnswerKind = "ok" | PluginErrorKind;

/** One frame, decoded. */
export type Frame =
  | { readonly t: "init"; readonly init: ChildInit; readonly module: Uint8Array }
  | {
    readonly t: "call";
    readonly id: number;
    readonly timeoutMs: number;
    readonly request: Uint8Array;
  }
  | { readonly t: "ready" }
  | { readonly t: "init_failed"; readonly message: string }
  | {
    readonly t: "answer";
    readonly id: number;
    readonly kind: AnswerKind;
    readonly body: Uint8Array;
  }
  | {
    readonly t: "log";
    readonly level: 0 | 1 | 2 | 3;
    readonly source: string;
    readonly text: string;
  }
  | { readonly t: "abandoned" };

/**
 * Largest frame the router accepts from a child: a response of the channel's
 * {@link MAX_MESSAGE_BYTES} plus its header.
 */
export const MAX_FRAME_BYTES = MAX_MESSAGE_BYTES + 64;

/** Longest log text or source a child may send, in bytes (a plugin's lines are ≤ 4096 chars). */
export const MAX_LOG_BYTES = 16 * 1024;
const MAX_SOURCE_BYTES = 64;

const TYPES = ["init", "call", "ready", "init_failed", "answer", "log", "abandoned"] as const;
const KINDS: readonly AnswerKind[] = ["ok", "timeout", "trap", "bad_response", "unavailable"];
const HEADER = 5;

/** A frame the reader cannot accept (oversized, unknown type, malformed body). */
export class FrameError extends Error {
  /** Lets callers tell this apart without `instanceof`. */
  readonly code = "bad_frame";
  /** @param message what was wrong with the frame. */
  constructor(message: string) {
    super(message);
    this.name = "FrameError";
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Encodes one frame (the `init` frame may exceed {@link MAX_FRAME_BYTES}; nothing else does). */
export function encodeFrame(frame: Frame): Uint8Array {
  switch (frame.t) {
    case "init": {
      const json = encoder.encode(JSON.stringify(frame.init));
      return build(frame.t, [u32(json.length), json, frame.module]);
    }
    case "call":
      return build(frame.t, [u32(frame.id), u32(frame.timeoutMs), frame.request]);
    case "ready":
    case "abandoned":
      return build(frame.t, []);
    case "init_failed":
      return build(frame.t, [encoder.encode(frame.message)]);
    case "answer":
      return build(frame.t, [u32(frame.id), Uint8Array.of(KINDS.indexOf(frame.kind)), frame.body]);
    case "log": {
      const source = encoder.encode(frame.source).subarray(0, MAX_SOURCE_BYTES);
      const text = encoder.encode(frame.text).subarray(0, MAX_LOG_BYTES);
      return build(frame.t, [Uint8Array.of(frame.level, source.length), source, text]);
    }
  }
}

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0, true);
  return b;
}

function build(t: Frame["t"], parts: readonly Uint8Array[]): Uint8Array {
  const size = parts.reduce((n, p) => n + p.length, 1);
  const out = new Uint8Array(4 + size);
  new DataView(out.buffer).setUint32(0, size, true);
  out[4] = TYPES.indexOf(t);
  let at = HEADER;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Reassembles frames from a byte stream. `push` the chunks as they arrive, then take frames
 * with `next` until it returns null. Throws a {@link FrameError} for a frame over `maxBytes` (as
 * soon as its header is in, before buffering it) or one that does not decode.
 */
export class FrameReader {
  readonly #maxBytes: number;
  #buf = new Uint8Array(64 * 1024);
  #start = 0;
  #end = 0;

  /** `maxBytes`: largest frame accepted, type and body (default {@link MAX_FRAME_BYTES}). */
  constructor(maxBytes: number = MAX_FRAME_BYTES) {
    this.#maxBytes = maxBytes;
  }

  /** Appends received bytes. */
  push(chunk: Uint8Array): void {
    if (this.#end + chunk.length > this.#buf.length) this.#makeRoom(chunk.length);
    this.#buf.set(chunk, this.#end);
    this.#end += chunk.length;
  }

  /** The next complete frame, or null until more bytes arrive. */
  next(): Frame | null {
    const have = this.#end - this.#start;
    if (have < 4) return null;
    const view = new DataView(this.#buf.buffer, this.#start);
    const size = view.getUint32(0, true);
    if (size < 1 || size > this.#maxBytes) {
      throw new FrameError(`frame of ${size} bytes (limit ${this.#maxBytes})`);
    }
    if (have < 4 + size) return null;
    const type = TYPES[this.#buf[this.#start + 4]!];
    const body = this.#buf.slice(this.#start + HEADER, this.#start + 4 + size);
    this.#start += 4 + size;
    if (this.#start === this.#end) this.#start = this.#end = 0;
    if (type === undefined) throw new FrameError("unknown frame type");
    return decodeBody(type, body);
  }

  // Compacts, and grows (doubling, up to one whole frame) when that is not enough.
  #makeRoom(incoming: number): void {
    const live = this.#end - this.#start;
    const need = live + incoming;
    const size = need <= this.#buf.length ? this.#buf.length : Math.max(need, this.#buf.length * 2);
    const next = size === this.#buf.length ? this.#buf : new Uint8Array(size);
    next.set(this.#buf.subarray(this.#start, this.#end), 0);
    this.#buf = next;
    this.#start = 0;
    this.#end = live;
  }
}

function decodeBody(t: Frame["t"], body: Uint8Array): Frame {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const need = (n: number) => {
    if (body.length < n) throw new FrameError(`${t} frame of ${body.length} bytes is too short`);
  };
  switch (t) {
    case "init": {
      need(4);
      const jsonEnd = 4 + view.getUint32(0, true);
      need(jsonEnd);
      const init = JSON.parse(decoder.decode(body.subarray(4, jsonEnd))) as ChildInit;
      return { t, init, module: body.subarray(jsonEnd) };
    }
    case "call":
      need(8);
      return {
        t,
        id: view.getUint32(0, true),
        timeoutMs: view.getUint32(4, true),
        request: body.subarray(8),
      };
    case "ready":
    case "abandoned":
      return { t };
    case "init_failed":
      return { t, message: decoder.decode(body.subarray(0, MAX_LOG_BYTES)) };
    case "answer": {
      need(5);
      const kind = KINDS[body[4]!];
      if (kind === undefined) throw new FrameError(`answer of unknown kind ${body[4]}`);
      return { t, id: view.getUint32(0, true), kind, body: body.subarray(5) };
    }
    case "log":
      return decodeLog(body);
  }
}

function decodeLog(body: Uint8Array): Frame {
  if (body.length < 2) throw new FrameError("log frame is too short");
  const level = body[0]!;
  const sourceEnd = 2 + body[1]!;
  if (level > 3) throw new FrameError(`log level ${level}`);
  if (body[1]! > MAX_SOURCE_BYTES || body.length < sourceEnd) {
    throw new FrameError("log frame source is malformed");
  }
  if (body.length - sourceEnd > MAX_LOG_BYTES) throw new FrameError("log line is too long");
  return {
    t: "log",
    level: level as 0 | 1 | 2 | 3,
    source: decoder.decode(body.subarray(2, sourceEnd)),
    text: decoder.decode(body.subarray(sourceEnd)),
  };
}

/**
 * Writes frames to a stream, batched: frames sent in the same turn go out as one write (one
 * syscall and one wake-up of the reader for a burst of calls or answers), in order.
 */
export class FrameWriter {
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #onError: (e: unknown) => void;
  #parts: Uint8Array[] = [];
  #bytes = 0;
  #scheduled = false;
  #last: Promise<void> = Promise.resolve();

  /** `onError` hears about a failed write (the other side is gone); later frames are dropped. */
  constructor(stream: WritableStream<Uint8Array>, onError: (e: unknown) => void) {
    this.#writer = stream.getWriter();
    this.#onError = onError;
  }

  /** Queues `frame` for the write at the end of this turn. */
  send(frame: Frame): void {
    this.hold(frame);
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => this.flush());
  }

  /** Queues `frame` for the next write, whenever that is ({@link send} or {@link flush}). */
  hold(frame: Frame): void {
    const bytes = encodeFrame(frame);
    this.#parts.push(bytes);
    this.#bytes += bytes.length;
  }

  /** Writes what is queued and resolves once every write so far has finished (or failed). */
  drain(): Promise<void> {
    this.flush();
    return this.#last;
  }

  /** Stops writing (the stream is closed; queued frames are dropped). */
  close(): void {
    this.#parts = [];
    this.#writer.close().catch(() => {});
  }

  /** Writes what is queued now. */
  flush(): void {
    this.#scheduled = false;
    if (this.#parts.length === 0) return;
    let chunk = this.#parts[0]!;
    if (this.#parts.length > 1) {
      chunk = new Uint8Array(this.#bytes);
      let at = 0;
      for (const p of this.#parts) {
        chunk.set(p, at);
        at += p.length;
      }
    }
    this.#parts = [];
    this.#bytes = 0;
    this.#last = this.#writer.write(chunk).catch(this.#onError);
  }
}
