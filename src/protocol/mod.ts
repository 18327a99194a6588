/**
 * The Hytale wire protocol as far as the router needs it (docs/protocol.md): stream framing, the
 * Connect packet (v1 and v2 layouts), Disconnect, ClientReferral and the referral envelope.
 * Everything here is pure (no I/O) and synchronous.
 *
 * @module
 */

/** A protocol failure with a `code`; its message names the packet and field. */
export { ProtocolError } from "./errors.ts";
/** The codes a `ProtocolError` can carry. */
export type { ProtocolErrorCode } from "./errors.ts";

/** Known packet ids (Connect 0, Disconnect 1, Ping 2, Pong 3, ConnectAccept 14, ClientReferral 18). */
export { PacketId } from "./packet_ids.ts";

/** What a Connect yields, and the HostAddress wire type. */
export type { ConnectEvent, HostAddress } from "./types.ts";

/** Incremental frame decoding with a payload cap, frame encoding, and the Connect cap. */
export { encodeFrame, FrameDecoder, MAX_CONNECT_PAYLOAD } from "./framing.ts";
/** A decoded frame: packet id and payload. */
export type { Frame } from "./framing.ts";

/** Connect (packet 0): decode either layout (never throws); encode v2 as a client would. */
export { decodeConnect } from "./connect_decoder.ts";
/** Connect (packet 0) v2 encoder and its input. */
export { encodeConnect } from "./connect_encoder.ts";
/** What `encodeConnect` writes. */
export type { ConnectFields } from "./connect_encoder.ts";

/** Disconnect (packet 1) payload encoder and decoder. */
export { decodeDisconnect, encodeDisconnect } from "./disconnect.ts";
/** A decoded Disconnect. */
export type { DisconnectPacket } from "./disconnect.ts";

/** ClientReferral (packet 18) payload encoder and decoder. */
export { decodeClientReferral, encodeClientReferral } from "./client_referral.ts";
/** A decoded ClientReferral. */
export type { ClientReferralPacket } from "./client_referral.ts";

/** Referral envelope v1: seal (HMAC-SHA256 when a secret is set) and open/verify. */
export { createEnvelopeSealer, openEnvelope } from "./envelope.ts";
/** The sealer created at load, and what `openEnvelope` returns. */
export type { EnvelopeSealer, OpenedEnvelope } from "./envelope.ts";

/** Decodes `referral.hmac_secret` text (raw, `base64:`, `hex:`). */
export { parseHmacSecret } from "./hmac_secret.ts";

/** Whether a string is a UUID in `8-4-4-4-12` hex form. */
export { isUuidText } from "./uuid.ts";

/** The longest username a Connect may carry (UTF-8 bytes). */
export { MAX_USERNAME_BYTES } from "./limits.ts";
/** The longest language a v2 Connect may carry (UTF-8 bytes). */
export { MAX_LANGUAGE_BYTES_V2 } from "./limits.ts";
