import { ProtocolError } from "./errors.ts";
import type { HostAddress } from "./types.ts";
import { MAX_HOST_BYTES } from "./limits.ts";
import { formatUuid } from "./uuid.ts";

/** A decoded value and how many bytes it took on the wire. */
export interface Sized<T> {
  readonly value: T;
  readonly size: number;
}

/** Where a length-prefixed byte field's content lies, without copying it. */
export interface ByteSpan {
  readonly start: number;
  readonly length: number;
  /** Prefix plus content, in bytes. */
  readonly size: number;
}

/** A VarInt carries at most 5 groups of 7 bits (docs/protocol.md §3 "Primitive encodings"). */
const MAX_VARINT_BYTES = 5;
const MAX_I32 = 0x7fff_ffff;

// Not fatal: like the Go router, invalid UTF-8 is kept (as U+FFFD) rather than rejected.
// ignoreBOM keeps a leading U+FEFF as part of the value instead of silently dropping it.
const utf8 = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });

/**
 * Bounds-checked reads at absolute positions of one payload. Hytale packets locate their
 * variable fields through offset slots, so every read takes a position rather than advancing a
 * cursor. Each read names its `field` so a failure says which field was bad; every failure is a
 * `ProtocolError`, and no read ever touches a byte outside the payload.
 */
export class ByteReader {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Payload length in bytes. */
  get length(): number {
    return this.#bytes.length;
  }

  /** Throws `truncated` unless `n` bytes exist at `pos`. */
  need(pos: number, n: number, field: string): void {
    if (!Number.isSafeInteger(pos) || pos < 0 || pos + n > this.#bytes.length) {
      throw new ProtocolError(
        "truncated",
        `${field}: needs ${n} byte(s) at offset ${pos}, payload is ${this.#bytes.length} bytes`,
      );
    }
  }

  u8(pos: number, field: string): number {
    this.need(pos, 1, field);
    return this.#view.getUint8(pos);
  }

  u16le(pos: number, field: string): number {
    this.need(pos, 2, field);
    return this.#view.getUint16(pos, true);
  }

  i32le(pos: number, field: string): number {
    this.need(pos, 4, field);
    return this.#view.getInt32(pos, true);
  }

  u32le(pos: number, field: string): number {
    this.need(pos, 4, field);
    return this.#view.getUint32(pos, true);
  }

  /** Unsigned LEB128 of at most 5 bytes whose value fits a non-negative i32. */
  varInt(pos: number, field: string): Sized<number> {
    let value = 0;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      const b = this.u8(pos + i, field);
      value += (b & 0x7f) * 2 ** (7 * i);
      if ((b & 0x80) === 0) {
        if (value > MAX_I32) {
          throw new ProtocolError(
            "bad_varint",
            `${field}: VarInt ${value} at offset ${pos} exceeds i32`,
          );
        }
        return { value, size: i + 1 };
      }
    }
    throw new ProtocolError(
      "bad_varint",
      `${field}: VarInt at offset ${pos} is longer than 5 bytes`,
    );
  }

  /** A VarInt length (≤ `max`) followed by that many bytes, all inside the payload. */
  varBytes(pos: number, max: number, field: string): ByteSpan {
    const prefix = this.varInt(pos, field);
    if (prefix.value > max) {
      throw new ProtocolError("too_long", `${field}: length ${prefix.value} exceeds max ${max}`);
    }
    const start = pos + prefix.size;
    this.need(start, prefix.value, field);
    return { start, length: prefix.value, size: prefix.size + prefix.value };
  }

  /** A VarString of at most `max` UTF-8 bytes. */
  varString(pos: number, max: number, field: string): Sized<string> {
    const span = this.varBytes(pos, max, field);
    const value = utf8.decode(this.#bytes.subarray(span.start, span.start + span.length));
    return { value, size: span.size };
  }

  /** A copy of `n` bytes at `pos`. */
  bytes(pos: number, n: number, field: string): Uint8Array {
    this.need(pos, n, field);
    return this.#bytes.slice(pos, pos + n);
  }

  /** Fixed ASCII(n): `n` bytes whose value ends at the first NUL (or at `n`). */
  fixedAscii(pos: number, n: number, field: string): string {
    this.need(pos, n, field);
    const window = this.#bytes.subarray(pos, pos + n);
    const nul = window.indexOf(0);
    return utf8.decode(nul < 0 ? window : window.subarray(0, nul));
  }

  /** 16 bytes rendered lower-case `8-4-4-4-12`. */
  uuid(pos: number, field: string): string {
    this.need(pos, 16, field);
    return formatUuid(this.#bytes, pos);
  }

  /** HostAddress: `u16le port` then VarString host (max 256 bytes). */
  hostAddress(pos: number, field: string): Sized<HostAddress> {
    const port = this.u16le(pos, field);
    const host = this.varString(pos + 2, MAX_HOST_BYTES, field);
    return { value: { host: host.value, port }, size: 2 + host.size };
  }
}
