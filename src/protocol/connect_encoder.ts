import { ByteWriter } from "./byte_writer.ts";
import {
  CLIENT_VERSION_BYTES,
  MAX_IDENTITY_TOKEN_BYTES,
  MAX_LANGUAGE_BYTES_V2,
  MAX_REFERRAL_DATA_BYTES,
  MAX_USERNAME_BYTES,
} from "./limits.ts";
import type { HostAddress } from "./types.ts";

/** What a client puts in a v2 Connect; optional fields are absent when omitted or `null`. */
export interface ConnectFields {
  /** i32; default 0. */
  readonly protocolCrc?: number;
  /** i32; default 0. */
  readonly protocolBuildNumber?: number;
  /** At most 20 ASCII characters; default `""`. */
  readonly clientVersion?: string;
  /** u8; default 0. */
  readonly clientType?: number;
  /** `8-4-4-4-12` hex. */
  readonly uuid: string;
  /** At most 16 UTF-8 bytes. */
  readonly username: string;
  /** At most 16 UTF-8 bytes. */
  readonly language: string;
  /** At most 8192 UTF-8 bytes. */
  readonly identityToken?: string | null;
  /** At most 4096 bytes. */
  readonly referralData?: Uint8Array | null;
  /** Host at most 256 UTF-8 bytes. */
  readonly referralSource?: HostAddress | null;
}

const V2_FIXED = 66;
/** Offset slots (i32le) in the fixed block, in wire order. */
const SLOT = { username: 46, identity: 50, language: 54, data: 58, source: 62 } as const;
const BIT = { identity: 0x01, data: 0x02, source: 0x04 } as const;
const TAG = "Connect (0) v2";

/** A variable field: the slot that points at it and how to write it (`null` = absent). */
interface VariableField {
  readonly slot: number;
  readonly write: ((w: ByteWriter) => void) | null;
}

/**
 * Encodes a v2 Connect (packet 0) payload, as a current Hytale client sends it: the 66-byte
 * fixed block, then the present variable fields in slot order (username, identity_token,
 * language, referral_data, referral_source). Throws `ProtocolError` for a field over its limit.
 */
export function encodeConnect(fields: ConnectFields): Uint8Array {
  const w = new ByteWriter(128);
  writeFixedBlock(w, fields);
  for (const { slot, write } of variableFields(fields)) {
    if (write === null) continue;
    w.setI32le(slot, w.length - V2_FIXED, `${TAG} offset slot ${slot}`);
    write(w);
  }
  return w.finish();
}

function writeFixedBlock(w: ByteWriter, f: ConnectFields): void {
  let bits = 0;
  if (isPresent(f.identityToken)) bits |= BIT.identity;
  if (isPresent(f.referralData)) bits |= BIT.data;
  if (isPresent(f.referralSource)) bits |= BIT.source;
  w.u8(bits, `${TAG} null_bits`);
  w.i32le(f.protocolCrc ?? 0, `${TAG} protocol_crc`);
  w.i32le(f.protocolBuildNumber ?? 0, `${TAG} protocol_build_number`);
  w.fixedAscii(f.clientVersion ?? "", CLIENT_VERSION_BYTES, `${TAG} client_version`);
  w.u8(f.clientType ?? 0, `${TAG} client_type`);
  w.uuid(f.uuid, `${TAG} uuid`);
  // Every slot starts as -1 (absent); encodeConnect fills in the present ones.
  for (let i = 0; i < Object.keys(SLOT).length; i++) w.i32le(-1, `${TAG} offset slot`);
}

function variableFields(f: ConnectFields): readonly VariableField[] {
  const { identityToken, referralData, referralSource } = f;
  return [
    {
      slot: SLOT.username,
      write: (w) => w.varString(f.username, MAX_USERNAME_BYTES, `${TAG} username`),
    },
    {
      slot: SLOT.identity,
      write: isPresent(identityToken)
        ? (w) => w.varString(identityToken, MAX_IDENTITY_TOKEN_BYTES, `${TAG} identity_token`)
        : null,
    },
    {
      slot: SLOT.language,
      write: (w) => w.varString(f.language, MAX_LANGUAGE_BYTES_V2, `${TAG} language`),
    },
    {
      slot: SLOT.data,
      write: isPresent(referralData)
        ? (w) => w.varBytes(referralData, MAX_REFERRAL_DATA_BYTES, `${TAG} referral_data`)
        : null,
    },
    {
      slot: SLOT.source,
      write: isPresent(referralSource)
        ? (w) => w.hostAddress(referralSource.host, referralSource.port, `${TAG} referral_source`)
        : null,
    },
  ];
}

function isPresent<T>(value: T | null | undefined): value is T {
  return value !== null && value !== undefined;
}
