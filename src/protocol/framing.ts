import { ProtocolError } from "./errors.ts";
import { checkInt } from "./byte_writer.ts";
import { packetName } from "./packet_ids.ts";

/** One framed packet: `u32le payload_len` · `u32le packet_id` · payload. */
export interface Frame {
  /** u32 packet id (see `PacketId`). */
  readonly id: number;
  /** The payload, `payload_len` bytes; a copy the caller owns. */
  readonly payload: Uint8Array;
}

/** Size of the frame header (`payload_len`, `packet_id`). */
export const FRAME_HEADER_BYTES = 8;

/**
 * Cap for the payload of the first frame on a stream (the Connect). The largest well-formed
 * Connect is a v1 with every field at its maximum: 102 fixed + language 2+128 + identity token
 * 2+8192 + username 1+16 + referral_data 2+4096 + referral_source 2+2+256 = 12,801 bytes (v2
 * tops out at 12,652). 16 KiB leaves ~3.5 KiB for fields a future client might append, and is a
 * thousand times less than the Go router's 16 MiB per stream.
 */
export const MAX_CONNECT_PAYLOAD = 16 * 1024;

const MAX_I32 = 0x7fff_ffff;

interface Header {
  readonly length: number;
  readonly id: number;
}

/**
 * Incremental, I/O-free frame decoder for one stream. Feed it bytes with `push` as they arrive
 * (a frame may span many chunks, a chunk may hold many frames) and take complete frames with
 * `next` until it returns `null`.
 *
 * A header whose `payload_len` is negative as an i32 (`negative_length`) or above `maxPayload`
 * (`frame_too_large`) throws a `ProtocolError` as soon as its 8 bytes are known, before any of
 * its payload is kept. After such an error the decoder is spent: it drops its buffer and every
 * later call throws the same error, so the stream must be closed.
 *
 * Memory: when the caller drains `next()` after each `push`, the decoder holds at most one
 * incomplete frame (under 8 + `maxPayload` bytes) plus the unread tail of the latest chunk.
 * Chunks are copied, so the caller may reuse its read buffer.
 */
export class FrameDecoder {
  readonly #maxPayload: number;
  #buf = new Uint8Array(0);
  #start = 0;
  #end = 0;
  #header: Header | null = null;
  #failure: ProtocolError | null = null;

  /** `maxPayload` is the largest payload accepted, in bytes (e.g. `MAX_CONNECT_PAYLOAD`). */
  constructor(maxPayload: number) {
    checkInt(maxPayload, 0, MAX_I32, "FrameDecoder maxPayload");
    this.#maxPayload = maxPayload;
  }

  /** Bytes held that no returned frame has consumed yet (header bytes included). */
  get buffered(): number {
    return this.#end - this.#start;
  }

  /** Appends received bytes; throws at once if they complete an invalid header. */
  push(chunk: Uint8Array): void {
    this.#throwIfFailed();
    this.#append(chunk);
    this.#readHeader();
  }

  /** The next complete frame (its payload is a copy), or `null` if more bytes are needed. */
  next(): Frame | null {
    this.#throwIfFailed();
    const header = this.#readHeader();
    if (header === null || this.buffered < FRAME_HEADER_BYTES + header.length) return null;
    const payloadStart = this.#start + FRAME_HEADER_BYTES;
    const payload = this.#buf.slice(payloadStart, payloadStart + header.length);
    this.#start = payloadStart + header.length;
    this.#header = null;
    return { id: header.id, payload };
  }

  #readHeader(): Header | null {
    if (this.#header !== null || this.buffered < FRAME_HEADER_BYTES) return this.#header;
    const view = new DataView(
      this.#buf.buffer,
      this.#buf.byteOffset + this.#start,
      FRAME_HEADER_BYTES,
    );
    const length = view.getInt32(0, true);
    const id = view.getUint32(4, true);
    if (length < 0) {
      this.#fail("negative_length", `frame of packet ${describe(id)}: payload_len ${length} < 0`);
    }
    if (length > this.#maxPayload) {
      this.#fail(
        "frame_too_large",
        `frame of packet ${describe(id)}: payload_len ${length} exceeds cap ${this.#maxPayload}`,
      );
    }
    this.#header = { length, id };
    return this.#header;
  }

  #append(chunk: Uint8Array): void {
    if (this.#end + chunk.length > this.#buf.length) this.#makeRoom(chunk.length);
    this.#buf.set(chunk, this.#end);
    this.#end += chunk.length;
  }

  /** Moves the unread bytes to the front, growing the buffer only if they still do not fit. */
  #makeRoom(extra: number): void {
    const live = this.buffered;
    const needed = live + extra;
    if (needed <= this.#buf.length) {
      this.#buf.copyWithin(0, this.#start, this.#end);
    } else {
      // Geometric growth, but never past one full frame unless a single chunk needs more.
      const frameMax = FRAME_HEADER_BYTES + this.#maxPayload;
      const grown = new Uint8Array(Math.max(needed, Math.min(2 * this.#buf.length, frameMax)));
      grown.set(this.#buf.subarray(this.#start, this.#end));
      this.#buf = grown;
    }
    this.#start = 0;
    this.#end = live;
  }

  #fail(code: "negative_length" | "frame_too_large", message: string): never {
    this.#failure = new ProtocolError(code, message);
    this.#buf = new Uint8Array(0);
    this.#start = 0;
    this.#end = 0;
    throw this.#failure;
  }

  #throwIfFailed(): void {
    if (this.#failure !== null) throw this.#failure;
  }
}

function describe(id: number): string {
  return `${id} (${packetName(id)})`;
}

/** A complete frame: 8-byte header then `payload`. */
export function encodeFrame(id: number, payload: Uint8Array): Uint8Array {
  checkInt(id, 0, 0xffff_ffff, "frame packet_id");
  checkInt(payload.length, 0, MAX_I32, `frame of packet ${describe(id)} payload_len`);
  const out = new Uint8Array(FRAME_HEADER_BYTES + payload.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, payload.length, true);
  view.setUint32(4, id, true);
  out.set(payload, FRAME_HEADER_BYTES);
  return out;
}
