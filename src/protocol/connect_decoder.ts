import { ByteReader } from "./byte_reader.ts";
import { ProtocolError } from "./errors.ts";
import {
  CLIENT_VERSION_BYTES,
  MAX_IDENTITY_TOKEN_BYTES,
  MAX_LANGUAGE_BYTES_V1,
  MAX_LANGUAGE_BYTES_V2,
  MAX_REFERRAL_DATA_BYTES,
  MAX_USERNAME_BYTES,
  PROTOCOL_HASH_BYTES,
} from "./limits.ts";
import type { ConnectEvent, HostAddress } from "./types.ts";

/** v2 fixed block length; the variable block starts here. */
const V2_FIXED = 66;
/** v2 fixed-block positions (docs/protocol.md §4.2 "Connect v2"). */
const V2_AT = { crc: 1, buildNumber: 5, clientVersion: 9, clientType: 29, uuid: 30 } as const;
/** v2 offset slots (i32le each). */
const V2_SLOT = { username: 46, identity: 50, language: 54, data: 58, source: 62 } as const;
/** v2 null_bits; username and language have none (they are required). */
const V2_BIT = { identity: 0x01, data: 0x02, source: 0x04 } as const;

/** v1 fixed block length; the variable block starts here. */
const V1_FIXED = 102;
/** v1 fixed-block positions (docs/protocol.md §4.3 "Connect v1"). */
const V1_AT = { protocolHash: 1, clientType: 65, uuid: 66 } as const;
/** v1 offset slots (i32le each). */
const V1_SLOT = { language: 82, identity: 86, username: 90, data: 94, source: 98 } as const;
/** v1 null_bits; username has none (its offset alone says whether it is there). */
const V1_BIT = { language: 0x01, identity: 0x02, data: 0x04, source: 0x08 } as const;

/**
 * Decodes a Connect (packet 0) payload, choosing the layout as docs/protocol.md §4.1 orders it:
 * v1 if the payload is ≥ 102 bytes and bytes 1..64 are all hex digits or NUL; else v2; if v2
 * fails, v1. Returns `null` when neither layout decodes. Never throws on any input and never reads
 * outside `payload`; the identity token is checked for presence only and its value is never read
 * into a string.
 */
export function decodeConnect(payload: Uint8Array): ConnectEvent | null {
  const reader = new ByteReader(payload);
  if (payload.length >= V1_FIXED && looksLikeV1(payload)) return attempt(decodeV1, reader);
  return attempt(decodeV2, reader) ?? attempt(decodeV1, reader);
}

function attempt(decode: (r: ByteReader) => ConnectEvent, reader: ByteReader): ConnectEvent | null {
  try {
    return decode(reader);
  } catch (e) {
    // Only the reader's bounds and limit checks are expected; anything else is a bug to surface.
    if (e instanceof ProtocolError) return null;
    throw e;
  }
}

function looksLikeV1(payload: Uint8Array): boolean {
  for (let i = 1; i <= PROTOCOL_HASH_BYTES; i++) {
    const c = payload[i] ?? -1;
    const hex = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
    if (c !== 0 && !hex) return false;
  }
  return true;
}

/**
 * Where an optional variable field starts, or `null`: its null bit (if it has one) must be set
 * and its offset slot must hold a value ≥ 0. Offsets count from the end of the fixed block.
 */
function optionalPos(
  r: ByteReader,
  present: boolean,
  slot: number,
  base: number,
  field: string,
): number | null {
  if (!present) return null;
  const offset = r.i32le(slot, field);
  return offset < 0 ? null : base + offset;
}

/** Runs an optional field's read; a malformed optional field counts as absent. */
function lenient<T>(pos: number | null, read: (pos: number) => T): T | null {
  if (pos === null) return null;
  try {
    return read(pos);
  } catch (e) {
    if (e instanceof ProtocolError) return null;
    throw e;
  }
}

interface OptionalFields {
  readonly identityTokenPresent: boolean;
  readonly referralDataLength: number;
  readonly referralSource: HostAddress | null;
}

/** identity_token, referral_data and referral_source: read the same way in both layouts. */
function readOptionalTail(
  r: ByteReader,
  positions: {
    readonly identity: number | null;
    readonly data: number | null;
    readonly source: number | null;
  },
  layout: string,
): OptionalFields {
  const identity = lenient(
    positions.identity,
    (p) => r.varBytes(p, MAX_IDENTITY_TOKEN_BYTES, `Connect (0) ${layout} identity_token`),
  );
  const data = lenient(
    positions.data,
    (p) => r.varBytes(p, MAX_REFERRAL_DATA_BYTES, `Connect (0) ${layout} referral_data`),
  );
  const source = lenient(
    positions.source,
    (p) => r.hostAddress(p, `Connect (0) ${layout} referral_source`).value,
  );
  return {
    identityTokenPresent: identity !== null,
    referralDataLength: data?.length ?? 0,
    referralSource: source,
  };
}

function requireFixed(r: ByteReader, fixed: number, layout: string): void {
  if (r.length < fixed) {
    throw new ProtocolError(
      "bad_packet",
      `Connect (0) ${layout}: ${r.length} bytes, fixed block needs ${fixed}`,
    );
  }
}

function requiredPos(r: ByteReader, slot: number, base: number, field: string): number {
  const offset = r.i32le(slot, field);
  if (offset < 0) {
    throw new ProtocolError("bad_packet", `${field}: required but offset is ${offset}`);
  }
  return base + offset;
}

function decodeV2(r: ByteReader): ConnectEvent {
  requireFixed(r, V2_FIXED, "v2");
  const bits = r.u8(0, "Connect (0) v2 null_bits");
  const usernameField = "Connect (0) v2 username";
  const languageField = "Connect (0) v2 language";
  const usernamePos = requiredPos(r, V2_SLOT.username, V2_FIXED, usernameField);
  const languagePos = requiredPos(r, V2_SLOT.language, V2_FIXED, languageField);
  const username = r.varString(usernamePos, MAX_USERNAME_BYTES, usernameField).value;
  const language = r.varString(languagePos, MAX_LANGUAGE_BYTES_V2, languageField).value;
  const at = (bit: number, slot: number, field: string) =>
    optionalPos(r, (bits & bit) !== 0, slot, V2_FIXED, `Connect (0) v2 ${field}`);
  const clientVersion = r.fixedAscii(
    V2_AT.clientVersion,
    CLIENT_VERSION_BYTES,
    "Connect (0) v2 client_version",
  );
  return {
    layout: "v2",
    protocolHash: clientVersion,
    protocolCrc: r.i32le(V2_AT.crc, "Connect (0) v2 protocol_crc"),
    protocolBuildNumber: r.i32le(V2_AT.buildNumber, "Connect (0) v2 protocol_build_number"),
    clientVersion,
    clientType: r.u8(V2_AT.clientType, "Connect (0) v2 client_type"),
    uuid: r.uuid(V2_AT.uuid, "Connect (0) v2 uuid"),
    username,
    language,
    ...readOptionalTail(r, {
      identity: at(V2_BIT.identity, V2_SLOT.identity, "identity_token"),
      data: at(V2_BIT.data, V2_SLOT.data, "referral_data"),
      source: at(V2_BIT.source, V2_SLOT.source, "referral_source"),
    }, "v2"),
  };
}

function decodeV1(r: ByteReader): ConnectEvent {
  requireFixed(r, V1_FIXED, "v1");
  const bits = r.u8(0, "Connect (0) v1 null_bits");
  const at = (bit: number, slot: number, field: string) =>
    optionalPos(r, (bits & bit) !== 0, slot, V1_FIXED, `Connect (0) v1 ${field}`);
  const language = lenient(
    at(V1_BIT.language, V1_SLOT.language, "language"),
    (p) => r.varString(p, MAX_LANGUAGE_BYTES_V1, "Connect (0) v1 language").value,
  );
  const username = lenient(
    optionalPos(r, true, V1_SLOT.username, V1_FIXED, "Connect (0) v1 username"),
    (p) => r.varString(p, MAX_USERNAME_BYTES, "Connect (0) v1 username").value,
  );
  return {
    layout: "v1",
    protocolHash: r.fixedAscii(
      V1_AT.protocolHash,
      PROTOCOL_HASH_BYTES,
      "Connect (0) v1 protocol_hash",
    ),
    protocolCrc: 0,
    protocolBuildNumber: 0,
    clientVersion: "",
    clientType: r.u8(V1_AT.clientType, "Connect (0) v1 client_type"),
    uuid: r.uuid(V1_AT.uuid, "Connect (0) v1 uuid"),
    username: username ?? "",
    language: language ?? "",
    ...readOptionalTail(r, {
      identity: at(V1_BIT.identity, V1_SLOT.identity, "identity_token"),
      data: at(V1_BIT.data, V1_SLOT.data, "referral_data"),
      source: at(V1_BIT.source, V1_SLOT.source, "referral_source"),
    }, "v1"),
  };
}
