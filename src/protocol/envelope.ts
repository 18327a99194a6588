import { createHmac, timingSafeEqual } from "node:crypto";
import { checkInt } from "./byte_writer.ts";
import { ProtocolError } from "./errors.ts";

/** The whole envelope, MAC included, must fit here (it is ClientReferral `data`). */
export const MAX_ENVELOPE_BYTES = 4096;
/** `HYRP` · version · flags · key_id · u16le content_len. */
export const ENVELOPE_HEADER_BYTES = 9;
/** HMAC-SHA256 output, appended when the envelope is signed. */
export const ENVELOPE_MAC_BYTES = 32;

const MAGIC = [0x48, 0x59, 0x52, 0x50]; // "HYRP"
const VERSION = 1;
const FLAG_SIGNED = 0x01;

/**
 * Wraps referral content in the v1 envelope for one configuration (key id and secret are fixed
 * at creation).
 */
export interface EnvelopeSealer {
  /** Written into every envelope (u8). */
  readonly keyId: number;
  /** Whether envelopes carry an HMAC-SHA256 (a secret was configured). */
  readonly signed: boolean;
  /** Largest content that fits: 4087 bytes unsigned, 4055 signed. */
  readonly maxContentBytes: number;
  /**
   * The envelope around `content`. Throws `ProtocolError` `envelope_too_large` when content
   * exceeds `maxContentBytes`; the caller logs that and seals empty content instead.
   */
  seal(content: Uint8Array): Uint8Array;
}

/** What `openEnvelope` found. */
export interface OpenedEnvelope {
  /** The envelope's key id (u8). */
  readonly keyId: number;
  /** Whether the signed flag (0x01) is set. */
  readonly signed: boolean;
  /** The referral content (a copy). */
  readonly content: Uint8Array;
  /** MAC check result; `null` when the envelope is unsigned or no secret was given. */
  readonly valid: boolean | null;
}

/**
 * Creates the sealer for `referral.key_id` and the decoded `referral.hmac_secret` (`null`:
 * envelopes are unsigned). Call once at config load. Throws `ProtocolError` `bad_value` for a
 * key id outside 0..255 and `bad_secret` for a zero-length secret.
 */
export function createEnvelopeSealer(
  keyId: number,
  secret: Uint8Array | null,
): EnvelopeSealer {
  checkInt(keyId, 0, 0xff, "referral.key_id");
  const key = secret === null ? null : hmacKey(secret);
  const macBytes = key === null ? 0 : ENVELOPE_MAC_BYTES;
  const maxContentBytes = MAX_ENVELOPE_BYTES - ENVELOPE_HEADER_BYTES - macBytes;
  const build = (content: Uint8Array): Uint8Array => {
    const out = new Uint8Array(ENVELOPE_HEADER_BYTES + content.length + macBytes);
    writeHeader(out, key !== null, keyId, content);
    if (key !== null) {
      const signedPart = out.subarray(0, ENVELOPE_HEADER_BYTES + content.length);
      out.set(hmacSha256(key, signedPart), signedPart.length);
    }
    return out;
  };
  // Without plugin content every envelope of a config is the same bytes: sign it once here.
  const emptyEnvelope = build(new Uint8Array(0));
  return {
    keyId,
    signed: key !== null,
    maxContentBytes,
    seal(content: Uint8Array): Uint8Array {
      if (content.length === 0) return emptyEnvelope.slice();
      if (content.length > maxContentBytes) {
        throw new ProtocolError(
          "envelope_too_large",
          `referral envelope: content of ${content.length} bytes exceeds max ${maxContentBytes}`,
        );
      }
      return build(content);
    },
  };
}

function writeHeader(out: Uint8Array, signed: boolean, keyId: number, content: Uint8Array): void {
  out.set(MAGIC, 0);
  out[4] = VERSION;
  out[5] = signed ? FLAG_SIGNED : 0;
  out[6] = keyId;
  new DataView(out.buffer, out.byteOffset).setUint16(7, content.length, true);
  out.set(content, ENVELOPE_HEADER_BYTES);
}

function hmacKey(secret: Uint8Array): Uint8Array {
  if (secret.length === 0) {
    throw new ProtocolError("bad_secret", "referral.hmac_secret: empty secret");
  }
  return new Uint8Array(secret);
}

/**
 * HMAC-SHA256 with node:crypto, which computes it on the calling thread: WebCrypto's
 * `crypto.subtle.sign` runs it as an async op on another thread, and with a plugin setting
 * referral content on every connection that hop cost the router ~100 µs per connection
 * (`deno bench`: 114 µs vs 13 µs for 60 bytes).
 */
function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  return createHmac("sha256", key).update(data).digest();
}

/**
 * Parses a v1 envelope (e.g. the `data` of a ClientReferral a probe received) and, when it is
 * signed and `secret` is given, verifies its HMAC-SHA256 in constant time
 * (`timingSafeEqual`). Unknown flag bits are ignored. Throws `ProtocolError`
 * `bad_envelope` for a wrong magic or version, a length that disagrees with the bytes
 * (trailing bytes included), and `envelope_too_large` above 4096 bytes.
 */
export function openEnvelope(
  bytes: Uint8Array,
  secret: Uint8Array | null,
): OpenedEnvelope {
  const { keyId, signed, contentLength } = parseHeader(bytes);
  const signedLength = ENVELOPE_HEADER_BYTES + contentLength;
  const content = bytes.slice(ENVELOPE_HEADER_BYTES, signedLength);
  if (!signed || secret === null) return { keyId, signed, content, valid: null };
  const mac = bytes.subarray(signedLength);
  const expected = hmacSha256(hmacKey(secret), bytes.subarray(0, signedLength));
  const valid = mac.length === expected.length && timingSafeEqual(mac, expected);
  return { keyId, signed, content, valid };
}

function parseHeader(bytes: Uint8Array): { keyId: number; signed: boolean; contentLength: number } {
  if (bytes.length > MAX_ENVELOPE_BYTES) {
    throw new ProtocolError(
      "envelope_too_large",
      `referral envelope: ${bytes.length} bytes exceeds max ${MAX_ENVELOPE_BYTES}`,
    );
  }
  if (bytes.length < ENVELOPE_HEADER_BYTES || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new ProtocolError("bad_envelope", "referral envelope: missing HYRP header");
  }
  if (bytes[4] !== VERSION) {
    throw new ProtocolError("bad_envelope", `referral envelope: unsupported version ${bytes[4]}`);
  }
  const signed = ((bytes[5] ?? 0) & FLAG_SIGNED) !== 0;
  const contentLength = new DataView(bytes.buffer, bytes.byteOffset).getUint16(7, true);
  const expected = ENVELOPE_HEADER_BYTES + contentLength + (signed ? ENVELOPE_MAC_BYTES : 0);
  if (bytes.length !== expected) {
    throw new ProtocolError(
      "bad_envelope",
      `referral envelope: ${bytes.length} bytes, header says ${expected}`,
    );
  }
  return { keyId: bytes[6] ?? 0, signed, contentLength };
}
