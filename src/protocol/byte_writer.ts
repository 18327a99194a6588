import { ProtocolError } from "./errors.ts";
import { MAX_HOST_BYTES } from "./limits.ts";
import { parseUuid } from "./uuid.ts";

const utf8 = new TextEncoder();
const MAX_I32 = 0x7fff_ffff;

/** Throws `bad_value` unless `value` is an integer in `min..max`. */
export function checkInt(value: number, min: number, max: number, field: string): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ProtocolError("bad_value", `${field}: ${value} is not an integer in ${min}..${max}`);
  }
}

function isAsciiWithoutNul(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0 || c > 0x7f) return false;
  }
  return true;
}

/**
 * Appends wire primitives to a growing buffer. Every write validates its value and names the
 * `field` in the `ProtocolError` it throws, so encoders never emit something a decoder would
 * reject.
 */
export class ByteWriter {
  #buf: Uint8Array<ArrayBuffer>;
  #view: DataView<ArrayBuffer>;
  #length = 0;

  constructor(initialCapacity = 64) {
    this.#buf = new Uint8Array(Math.max(16, initialCapacity));
    this.#view = new DataView(this.#buf.buffer);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.#length;
  }

  u8(value: number, field: string): void {
    checkInt(value, 0, 0xff, field);
    this.#reserve(1);
    this.#view.setUint8(this.#length, value);
    this.#length += 1;
  }

  u16le(value: number, field: string): void {
    checkInt(value, 0, 0xffff, field);
    this.#reserve(2);
    this.#view.setUint16(this.#length, value, true);
    this.#length += 2;
  }

  i32le(value: number, field: string): void {
    checkInt(value, -0x8000_0000, MAX_I32, field);
    this.#reserve(4);
    this.#view.setInt32(this.#length, value, true);
    this.#length += 4;
  }

  u32le(value: number, field: string): void {
    checkInt(value, 0, 0xffff_ffff, field);
    this.#reserve(4);
    this.#view.setUint32(this.#length, value, true);
    this.#length += 4;
  }

  /** Overwrites an i32le written earlier (used to fill offset slots). */
  setI32le(pos: number, value: number, field: string): void {
    checkInt(value, -0x8000_0000, MAX_I32, field);
    if (pos < 0 || pos + 4 > this.#length) {
      throw new RangeError(`${field}: slot at ${pos} was never written`);
    }
    this.#view.setInt32(pos, value, true);
  }

  /** Unsigned LEB128; negative values are never encoded. */
  varInt(value: number, field: string): void {
    if (!Number.isInteger(value) || value < 0 || value > MAX_I32) {
      throw new ProtocolError("bad_varint", `${field}: ${value} is not a VarInt (0..2^31-1)`);
    }
    let rest = value;
    while (rest >= 0x80) {
      this.u8((rest & 0x7f) | 0x80, field);
      rest = Math.floor(rest / 0x80);
    }
    this.u8(rest, field);
  }

  bytes(value: Uint8Array): void {
    this.#reserve(value.length);
    this.#buf.set(value, this.#length);
    this.#length += value.length;
  }

  /** VarInt length then the bytes; throws `too_long` above `max`. */
  varBytes(value: Uint8Array, max: number, field: string): void {
    if (value.length > max) {
      throw new ProtocolError("too_long", `${field}: length ${value.length} exceeds max ${max}`);
    }
    this.varInt(value.length, field);
    this.bytes(value);
  }

  /** VarString: UTF-8 bytes of `value`, at most `max` of them. */
  varString(value: string, max: number, field: string): void {
    this.varBytes(utf8.encode(value), max, field);
  }

  /** Fixed ASCII(n): the text, NUL-padded to `n` bytes; NUL and non-ASCII are rejected. */
  fixedAscii(value: string, n: number, field: string): void {
    if (value.length > n || !isAsciiWithoutNul(value)) {
      throw new ProtocolError("bad_string", `${field}: must be at most ${n} ASCII characters`);
    }
    const out = new Uint8Array(n);
    utf8.encodeInto(value, out);
    this.bytes(out);
  }

  /** A UUID given as `8-4-4-4-12` text, as 16 bytes (two big-endian u64). */
  uuid(value: string, field: string): void {
    this.bytes(parseUuid(value, field));
  }

  /** HostAddress: `u16le port` then VarString host (max 256 bytes). */
  hostAddress(host: string, port: number, field: string): void {
    this.u16le(port, `${field} port`);
    this.varString(host, MAX_HOST_BYTES, `${field} host`);
  }

  /** A copy of exactly the bytes written. */
  finish(): Uint8Array<ArrayBuffer> {
    return this.#buf.slice(0, this.#length);
  }

  #reserve(n: number): void {
    const needed = this.#length + n;
    if (needed <= this.#buf.length) return;
    const grown = new Uint8Array(Math.max(needed, this.#buf.length * 2));
    grown.set(this.#buf.subarray(0, this.#length));
    this.#buf = grown;
    this.#view = new DataView(grown.buffer);
  }
}
