import { ByteReader } from "./byte_reader.ts";
import { ByteWriter } from "./byte_writer.ts";
import { MAX_DISCONNECT_REASON_BYTES } from "./limits.ts";
import { ProtocolError } from "./errors.ts";

const TAG = "Disconnect (1)";
/** null_bits: the reason is present. */
const REASON_BIT = 0x01;
/** The disconnect type byte the router always sends. */
const DISCONNECT_TYPE = 0;

/** A decoded Disconnect. */
export interface DisconnectPacket {
  /** `""` when the packet carries no reason. */
  readonly reason: string;
}

/**
 * Encodes a Disconnect (packet 1) payload: `00 00` for an empty reason, else `01` (null_bits)
 * · `00` (disconnect type) · VarString reason (at most 4,096,000 UTF-8 bytes, else
 * `ProtocolError` `too_long`).
 */
export function encodeDisconnect(reason: string): Uint8Array {
  const w = new ByteWriter(reason.length + 8);
  if (reason === "") {
    w.u8(0, `${TAG} null_bits`);
    w.u8(DISCONNECT_TYPE, `${TAG} type`);
    return w.finish();
  }
  w.u8(REASON_BIT, `${TAG} null_bits`);
  w.u8(DISCONNECT_TYPE, `${TAG} type`);
  w.varString(reason, MAX_DISCONNECT_REASON_BYTES, `${TAG} reason`);
  return w.finish();
}

/**
 * Decodes a Disconnect (packet 1) payload as a client would; bytes after the reason are
 * ignored. Throws `ProtocolError` when the payload is shorter than its 2-byte fixed block or
 * the reason is malformed.
 */
export function decodeDisconnect(payload: Uint8Array): DisconnectPacket {
  const r = new ByteReader(payload);
  if (r.length < 2) {
    throw new ProtocolError("bad_packet", `${TAG}: ${r.length} bytes, fixed block needs 2`);
  }
  const bits = r.u8(0, `${TAG} null_bits`);
  if ((bits & REASON_BIT) === 0) return { reason: "" };
  return { reason: r.varString(2, MAX_DISCONNECT_REASON_BYTES, `${TAG} reason`).value };
}
