import { ByteReader } from "./byte_reader.ts";
import { ByteWriter } from "./byte_writer.ts";
import { ProtocolError } from "./errors.ts";
import { MAX_HOST_BYTES, MAX_REFERRAL_DATA_BYTES } from "./limits.ts";

const TAG = "ClientReferral (18)";
/** null_bits (byte 0), the two offset slots, and where offsets count from. */
const BIT = { host: 0x01, data: 0x02 } as const;
const SLOT = { host: 1, data: 5 } as const;
const FIXED = 9;
const UTF8 = new TextEncoder();

/** A decoded ClientReferral. */
export interface ClientReferralPacket {
  /** The backend host, never empty. */
  readonly host: string;
  /** The backend port (u16). */
  readonly port: number;
  /** The referral data (the router sends its envelope here); `null` when absent. */
  readonly data: Uint8Array | null;
}

/**
 * Encodes a ClientReferral (packet 18) payload: null_bits (`0x01` host, `0x02` data), host
 * offset (0), data offset (-1 when `data` is `null`), then HostAddress and, if present,
 * VarInt length + data. An empty `Uint8Array` is sent as present-but-empty, `null` as absent.
 * Throws `ProtocolError` for an empty host, a host over 256 UTF-8 bytes, a port outside
 * 0..65535, or data over 4096 bytes.
 */
export function encodeClientReferral(
  host: string,
  port: number,
  data: Uint8Array | null,
): Uint8Array {
  checkReferral(host, data);
  const w = new ByteWriter(FIXED + 8 + host.length + (data?.length ?? 0));
  w.u8(BIT.host | (data === null ? 0 : BIT.data), `${TAG} null_bits`);
  w.i32le(0, `${TAG} host offset`);
  w.i32le(-1, `${TAG} data offset`);
  w.hostAddress(host, port, `${TAG} host`);
  if (data !== null) {
    w.setI32le(SLOT.data, w.length - FIXED, `${TAG} data offset`);
    w.varBytes(data, MAX_REFERRAL_DATA_BYTES, `${TAG} data`);
  }
  return w.finish();
}

function checkReferral(host: string, data: Uint8Array | null): void {
  if (host === "") throw new ProtocolError("bad_string", `${TAG} host: must not be empty`);
  const hostBytes = UTF8.encode(host).length;
  if (hostBytes > MAX_HOST_BYTES) {
    throw new ProtocolError(
      "too_long",
      `${TAG} host: ${hostBytes} bytes exceeds max ${MAX_HOST_BYTES}`,
    );
  }
  if (data !== null && data.length > MAX_REFERRAL_DATA_BYTES) {
    throw new ProtocolError(
      "too_long",
      `${TAG} data: ${data.length} bytes exceeds max ${MAX_REFERRAL_DATA_BYTES}`,
    );
  }
}

/**
 * Decodes a ClientReferral (packet 18) payload as a client would, following the offset slots.
 * Throws `ProtocolError` when the host is missing or empty, or any field is malformed.
 */
export function decodeClientReferral(payload: Uint8Array): ClientReferralPacket {
  const r = new ByteReader(payload);
  if (r.length < FIXED) {
    throw new ProtocolError("bad_packet", `${TAG}: ${r.length} bytes, fixed block needs ${FIXED}`);
  }
  const bits = r.u8(0, `${TAG} null_bits`);
  const hostOffset = r.i32le(SLOT.host, `${TAG} host offset`);
  if ((bits & BIT.host) === 0 || hostOffset < 0) {
    throw new ProtocolError("bad_packet", `${TAG} host: required but absent`);
  }
  const address = r.hostAddress(FIXED + hostOffset, `${TAG} host`).value;
  if (address.host === "") throw new ProtocolError("bad_string", `${TAG} host: empty`);
  const dataOffset = r.i32le(SLOT.data, `${TAG} data offset`);
  if ((bits & BIT.data) === 0 || dataOffset < 0) return { ...address, data: null };
  const span = r.varBytes(FIXED + dataOffset, MAX_REFERRAL_DATA_BYTES, `${TAG} data`);
  return { ...address, data: r.bytes(span.start, span.length, `${TAG} data`) };
}
