/** Field size limits from docs/protocol.md, shared by the encoders and the decoders. */

/** VarString max of a username (v1 and v2). */
export const MAX_USERNAME_BYTES = 16;
/** VarString max of the v2 `language`. */
export const MAX_LANGUAGE_BYTES_V2 = 16;
/** VarString max of the v1 `language`. */
export const MAX_LANGUAGE_BYTES_V1 = 128;
/** VarString max of the identity token (only its presence is ever reported). */
export const MAX_IDENTITY_TOKEN_BYTES = 8192;
/** Max length of `referral_data` in Connect and of `data` in ClientReferral. */
export const MAX_REFERRAL_DATA_BYTES = 4096;
/** VarString max of a HostAddress host. */
export const MAX_HOST_BYTES = 256;
/** VarString max of a Disconnect reason. */
export const MAX_DISCONNECT_REASON_BYTES = 4_096_000;
/** Width of the v2 fixed-ASCII `client_version`. */
export const CLIENT_VERSION_BYTES = 20;
/** Width of the v1 fixed-ASCII `protocol_hash`. */
export const PROTOCOL_HASH_BYTES = 64;
