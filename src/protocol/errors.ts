/**
 * Why a byte sequence or a value could not be decoded or encoded:
 *
 * - `truncated`: a field extends past the end of the bytes.
 * - `bad_varint`: a VarInt longer than 5 bytes, or outside 0..2^31-1.
 * - `too_long`: a length-prefixed field (VarString or bytes) is longer than its maximum.
 * - `bad_string`: a string value the format cannot carry (empty host, non-ASCII fixed text,
 *   malformed UUID text).
 * - `bad_value`: a number out of its field's range (port, key id, packet id, u8 field).
 * - `bad_packet`: a packet misses a required field or is shorter than its fixed block.
 * - `negative_length`, `frame_too_large`: a frame header's `payload_len` is negative as an i32,
 *   or above the decoder's cap.
 * - `envelope_too_large`, `bad_envelope`: a referral envelope that would not fit in 4096 bytes,
 *   or bytes that are not a well-formed envelope.
 * - `bad_secret`: an HMAC secret that is empty or not valid `base64:` / `hex:` text.
 */
export type ProtocolErrorCode =
  | "truncated"
  | "bad_varint"
  | "too_long"
  | "bad_string"
  | "bad_value"
  | "bad_packet"
  | "negative_length"
  | "frame_too_large"
  | "envelope_too_large"
  | "bad_envelope"
  | "bad_secret";

/**
 * A protocol encoding or decoding failure. The message names the packet and field
 * (e.g. `Connect (0) v2 username: length 17 exceeds max 16`); it is meant for logs and never
 * for a player. Messages never contain secret or identity-token bytes.
 */
export class ProtocolError extends Error {
  /** Always `"ProtocolError"`. */
  override readonly name = "ProtocolError";
  /** What kind of failure this is. */
  readonly code: ProtocolErrorCode;

  /** `message` names the packet and field; it never contains secret bytes. */
  constructor(code: ProtocolErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
