/**
 * A Hytale client's side of the wire, written from docs/protocol.md alone and sharing no code with
 * `src/`: it builds Connect payloads (v1 and v2) and frames the way a client would, and reads
 * the router's replies (Disconnect, ClientReferral, referral envelope). Tests use it as the
 * "real client" and as the independent side of golden comparisons.
 *
 * It deliberately does NOT enforce field limits: tests need to send oversize or malformed
 * fields. The readers, by contrast, are strict, so a reply that is even slightly off fails.
 */

/** A HostAddress as a client sees it. */
export interface ClientHostAddress {
  readonly host: string;
  readonly port: number;
}

/** Names of the v2 variable fields, in offset-slot order. */
export type V2Field = "username" | "identityToken" | "language" | "referralData" | "referralSource";

/** Names of the v1 variable fields, in offset-slot order. */
export type V1Field = "language" | "identityToken" | "username" | "referralData" | "referralSource";

/** Input of `buildConnectV2`. Omitted optional fields are absent (bit clear, offset -1). */
export interface ConnectV2Input {
  readonly protocolCrc?: number;
  readonly protocolBuildNumber?: number;
  readonly clientVersion?: string;
  readonly clientType?: number;
  readonly uuid: string;
  /** `null` leaves the required field out (offset -1), to build invalid payloads. */
  readonly username: string | null;
  /** `null` leaves the required field out (offset -1), to build invalid payloads. */
  readonly language: string | null;
  readonly identityToken?: string;
  readonly referralData?: Uint8Array;
  readonly referralSource?: ClientHostAddress;
  /** Order of the present fields in the variable block; default is slot order. */
  readonly order?: readonly V2Field[];
}

/** Input of `buildConnectV1`. Omitted optional fields are absent. */
export interface ConnectV1Input {
  /** Up to 64 ASCII characters (normally 64 hex digits). */
  readonly protocolHash: string;
  readonly clientType?: number;
  readonly uuid: string;
  readonly language?: string;
  readonly identityToken?: string;
  readonly username?: string;
  readonly referralData?: Uint8Array;
  readonly referralSource?: ClientHostAddress;
  /** Order of the present fields in the variable block; default is slot order. */
  readonly order?: readonly V1Field[];
}

const enc = new TextEncoder();
const dec = new TextDecoder("utf-8", { fatal: true });

// ---------------------------------------------------------------- hex helpers

/** Bytes from hex text; spaces and newlines are ignored (for readable golden strings). */
export function hex(text: string): Uint8Array {
  const digits = text.replace(/\s+/g, "");
  if (digits.length % 2 !== 0 || /[^0-9a-fA-F]/.test(digits)) throw new Error(`bad hex: ${text}`);
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(digits.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Lower-case hex of `bytes`, no separators. */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// ---------------------------------------------------------------- primitives

function leb128(value: number): number[] {
  const out: number[] = [];
  let v = value;
  do {
    let byte = v % 128;
    v = Math.floor(v / 128);
    if (v > 0) byte += 128;
    out.push(byte);
  } while (v > 0);
  return out;
}

function le(value: number, width: number): number[] {
  const out: number[] = [];
  let v = value < 0 ? value + 2 ** (8 * width) : value;
  for (let i = 0; i < width; i++) {
    out.push(v % 256);
    v = Math.floor(v / 256);
  }
  return out;
}

function lengthPrefixed(bytes: Uint8Array): number[] {
  return [...leb128(bytes.length), ...bytes];
}

function text(value: string): number[] {
  return lengthPrefixed(enc.encode(value));
}

function address(a: ClientHostAddress): number[] {
  return [...le(a.port, 2), ...text(a.host)];
}

function fixedText(value: string, width: number): number[] {
  const bytes = Array.from(enc.encode(value)).slice(0, width);
  while (bytes.length < width) bytes.push(0);
  return bytes;
}

function uuidBytes(uuid: string): number[] {
  const digits = uuid.replace(/-/g, "");
  const out: number[] = [];
  for (let i = 0; i < 32; i += 2) out.push(parseInt(digits.slice(i, i + 2), 16));
  return out;
}

/**
 * Lays out `fixed` then the present variable fields in `order`, writing each field's offset
 * (relative to the end of the fixed block) into its i32le slot.
 */
function assemble<F extends string>(
  fixed: number[],
  slots: Readonly<Record<F, number>>,
  fields: Partial<Record<F, number[]>>,
  order: readonly F[],
): Uint8Array {
  const variable: number[] = [];
  for (const name of order) {
    const bytes = fields[name];
    if (bytes === undefined) continue;
    fixed.splice(slots[name], 4, ...le(variable.length, 4));
    variable.push(...bytes);
  }
  return new Uint8Array([...fixed, ...variable]);
}

// ---------------------------------------------------------------- Connect

const V2_SLOTS: Record<V2Field, number> = {
  username: 46,
  identityToken: 50,
  language: 54,
  referralData: 58,
  referralSource: 62,
};
const V2_ORDER: readonly V2Field[] = [
  "username",
  "identityToken",
  "language",
  "referralData",
  "referralSource",
];

/** A v2 Connect payload (66-byte fixed block). */
export function buildConnectV2(input: ConnectV2Input): Uint8Array {
  const nullBits = (input.identityToken !== undefined ? 1 : 0) |
    (input.referralData !== undefined ? 2 : 0) |
    (input.referralSource !== undefined ? 4 : 0);
  const fixed = [
    nullBits,
    ...le(input.protocolCrc ?? 0, 4),
    ...le(input.protocolBuildNumber ?? 0, 4),
    ...fixedText(input.clientVersion ?? "", 20),
    input.clientType ?? 0,
    ...uuidBytes(input.uuid),
    ...Array<number>(20).fill(0xff), // five i32le slots, all -1
  ];
  const fields: Partial<Record<V2Field, number[]>> = {};
  if (input.username !== null) fields.username = text(input.username);
  if (input.identityToken !== undefined) fields.identityToken = text(input.identityToken);
  if (input.language !== null) fields.language = text(input.language);
  if (input.referralData !== undefined) fields.referralData = lengthPrefixed(input.referralData);
  if (input.referralSource !== undefined) fields.referralSource = address(input.referralSource);
  return assemble(fixed, V2_SLOTS, fields, input.order ?? V2_ORDER);
}

const V1_SLOTS: Record<V1Field, number> = {
  language: 82,
  identityToken: 86,
  username: 90,
  referralData: 94,
  referralSource: 98,
};
const V1_ORDER: readonly V1Field[] = [
  "language",
  "identityToken",
  "username",
  "referralData",
  "referralSource",
];

/** A v1 Connect payload (102-byte fixed block). */
export function buildConnectV1(input: ConnectV1Input): Uint8Array {
  const nullBits = (input.language !== undefined ? 1 : 0) |
    (input.identityToken !== undefined ? 2 : 0) |
    (input.referralData !== undefined ? 4 : 0) |
    (input.referralSource !== undefined ? 8 : 0);
  const fixed = [
    nullBits,
    ...fixedText(input.protocolHash, 64),
    input.clientType ?? 0,
    ...uuidBytes(input.uuid),
    ...Array<number>(20).fill(0xff),
  ];
  const fields: Partial<Record<V1Field, number[]>> = {};
  if (input.language !== undefined) fields.language = text(input.language);
  if (input.identityToken !== undefined) fields.identityToken = text(input.identityToken);
  if (input.username !== undefined) fields.username = text(input.username);
  if (input.referralData !== undefined) fields.referralData = lengthPrefixed(input.referralData);
  if (input.referralSource !== undefined) fields.referralSource = address(input.referralSource);
  return assemble(fixed, V1_SLOTS, fields, input.order ?? V1_ORDER);
}

// ---------------------------------------------------------------- framing

/** `u32le payload_len` · `u32le packet_id` · payload. */
export function frame(id: number, payload: Uint8Array): Uint8Array {
  return new Uint8Array([...le(payload.length, 4), ...le(id, 4), ...payload]);
}

/** A frame the client received. */
export interface ReceivedFrame {
  readonly id: number;
  readonly payload: Uint8Array;
}

/** Splits received bytes into complete frames and the incomplete remainder. */
export function splitFrames(bytes: Uint8Array): { frames: ReceivedFrame[]; rest: Uint8Array } {
  const frames: ReceivedFrame[] = [];
  let at = 0;
  while (bytes.length - at >= 8) {
    const length = readLe(bytes, at, 4);
    if (bytes.length - at - 8 < length) break;
    const id = readLe(bytes, at + 4, 4);
    frames.push({ id, payload: bytes.slice(at + 8, at + 8 + length) });
    at += 8 + length;
  }
  return { frames, rest: bytes.slice(at) };
}

// ---------------------------------------------------------------- reply readers

function readLe(bytes: Uint8Array, at: number, width: number): number {
  if (at < 0 || at + width > bytes.length) throw new Error(`read past end at ${at}`);
  let v = 0;
  for (let i = width - 1; i >= 0; i--) v = v * 256 + (bytes[at + i] ?? 0);
  return v;
}

function readSignedLe32(bytes: Uint8Array, at: number): number {
  const v = readLe(bytes, at, 4);
  return v >= 2 ** 31 ? v - 2 ** 32 : v;
}

function readLeb128(bytes: Uint8Array, at: number): { value: number; next: number } {
  let value = 0;
  for (let i = 0; i < 5; i++) {
    const b = bytes[at + i];
    if (b === undefined) throw new Error(`varint past end at ${at}`);
    value += (b % 128) * 128 ** i;
    if (b < 128) return { value, next: at + i + 1 };
  }
  throw new Error(`varint longer than 5 bytes at ${at}`);
}

function readPrefixed(bytes: Uint8Array, at: number): { value: Uint8Array; next: number } {
  const { value: length, next } = readLeb128(bytes, at);
  if (next + length > bytes.length) throw new Error(`field past end at ${at}`);
  return { value: bytes.slice(next, next + length), next: next + length };
}

/**
 * Reads a Disconnect payload strictly: exactly `00 00`, or `01 00` + VarString reason with
 * nothing after it.
 */
export function parseDisconnect(payload: Uint8Array): { reason: string } {
  if (payload.length === 2 && payload[0] === 0 && payload[1] === 0) return { reason: "" };
  if (payload[0] !== 1 || payload[1] !== 0) throw new Error(`bad Disconnect header`);
  const { value, next } = readPrefixed(payload, 2);
  if (next !== payload.length) throw new Error(`trailing bytes in Disconnect`);
  return { reason: dec.decode(value) };
}

/** Reads a ClientReferral payload strictly (host at offset 0, data right after it). */
export function parseClientReferral(
  payload: Uint8Array,
): { host: string; port: number; data: Uint8Array | null } {
  const bits = payload[0];
  if (bits !== 1 && bits !== 3) throw new Error(`bad ClientReferral null_bits ${bits}`);
  if (readSignedLe32(payload, 1) !== 0) throw new Error(`host offset is not 0`);
  const port = readLe(payload, 9, 2);
  const host = readPrefixed(payload, 11);
  const dataOffset = readSignedLe32(payload, 5);
  if (bits === 1) {
    if (dataOffset !== -1 || host.next !== payload.length) throw new Error(`bad absent data`);
    return { host: dec.decode(host.value), port, data: null };
  }
  if (dataOffset !== host.next - 9) throw new Error(`data offset ${dataOffset} is off`);
  const data = readPrefixed(payload, host.next);
  if (data.next !== payload.length) throw new Error(`trailing bytes in ClientReferral`);
  return { host: dec.decode(host.value), port, data: data.value };
}

/** The parts of a referral envelope v1. */
export interface ParsedEnvelope {
  readonly flags: number;
  readonly keyId: number;
  readonly content: Uint8Array;
  /** The 32-byte MAC, or `null` when the signed flag is clear. */
  readonly mac: Uint8Array | null;
  /** The bytes the MAC covers (header and content). */
  readonly signedPart: Uint8Array;
}

/** Reads a referral envelope v1 strictly (magic, version 1, exact length). */
export function parseEnvelope(bytes: Uint8Array): ParsedEnvelope {
  if (dec.decode(bytes.slice(0, 4)) !== "HYRP" || bytes[4] !== 1) {
    throw new Error(`not a HYRP v1 envelope`);
  }
  const flags = bytes[5] ?? 0;
  const contentLength = readLe(bytes, 7, 2);
  const end = 9 + contentLength;
  const signed = (flags & 1) === 1;
  if (bytes.length !== end + (signed ? 32 : 0)) throw new Error(`envelope length mismatch`);
  return {
    flags,
    keyId: bytes[6] ?? 0,
    content: bytes.slice(9, end),
    mac: signed ? bytes.slice(end) : null,
    signedPart: bytes.slice(0, end),
  };
}
