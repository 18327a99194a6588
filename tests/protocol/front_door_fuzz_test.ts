/**
 * The front door under fuzzing: everything a client sends before its referral goes through
 * `FrameDecoder` (with the router's cap, `MAX_CONNECT_PAYLOAD`) and `decodeConnect`, driven the
 * way `src/server/read_connect.ts` drives them. Mutated Connect payloads behind honest, lying,
 * bit-flipped or truncated frame headers, fed in random chunks, may give frames, decoded or
 * undecodable Connects, or a `ProtocolError` — never any other exception. Seeded: a failure
 * names its iteration and input, and replays.
 */
import { assert } from "../support/assert.ts";
import {
  type ConnectEvent,
  decodeConnect,
  FrameDecoder,
  MAX_CONNECT_PAYLOAD,
  ProtocolError,
} from "../../src/protocol/mod.ts";
import { buildConnectV1, buildConnectV2, frame, toHex } from "../support/hytale_client_codec.ts";
import { concat, int, mutate, prng, type Rand } from "../support/mutate.ts";

const ITERATIONS = 100_000;
const SEED = 0xd00_f00d;
/** Non-Connect frames the router skips before giving up (read_connect.ts). */
const MAX_FRAMES_BEFORE_CONNECT = 8;

const UUID = "6f1c9a7e-0b3d-4e52-9a18-2c7d5e4f3a10";
const HASH = "fedcba9876543210".repeat(4);
const bytesOf = (n: number, fill: number) => new Uint8Array(n).fill(fill);

/** Connects of both layouts built by the independent client codec, small to maximal. */
const SEEDS: readonly Uint8Array[] = [
  buildConnectV2({ uuid: UUID, username: "Krymo", language: "en" }),
  buildConnectV2({
    protocolCrc: 123456,
    protocolBuildNumber: 77,
    clientVersion: "2026.02.1",
    clientType: 1,
    uuid: UUID,
    username: "Sixteen_Chars_AB",
    language: "pt-BR",
    identityToken: "x".repeat(500),
    referralData: bytesOf(64, 7),
    referralSource: { host: "hub.example.net", port: 5521 },
    order: ["referralSource", "identityToken", "username", "referralData", "language"],
  }),
  // v2 with every field at its maximum.
  buildConnectV2({
    clientVersion: "v".repeat(20),
    uuid: UUID,
    username: "u".repeat(16),
    language: "l".repeat(16),
    identityToken: "t".repeat(8192),
    referralData: bytesOf(4096, 1),
    referralSource: { host: "h".repeat(256), port: 65535 },
  }),
  buildConnectV1({ protocolHash: HASH, uuid: UUID, username: "Old" }),
  // v1 with every field at its maximum: the largest well-formed Connect (12,801 bytes).
  buildConnectV1({
    protocolHash: HASH,
    clientType: 255,
    uuid: UUID,
    language: "l".repeat(128),
    identityToken: "t".repeat(8192),
    username: "u".repeat(16),
    referralData: bytesOf(4096, 2),
    referralSource: { host: "h".repeat(256), port: 1 },
  }),
];

/** `payload_len` as a client might lie about it (as u32; negative i32 values included). */
function claimedLength(rand: Rand, actual: number): number {
  const pick = rand();
  if (pick < 0.6) return actual;
  if (pick < 0.7) return Math.max(0, actual + int(rand, 33) - 16);
  if (pick < 0.78) return MAX_CONNECT_PAYLOAD + int(rand, 2);
  if (pick < 0.86) {
    return [0xffff_ffff, 0x8000_0000, 0x8000_0000 + int(rand, 2 ** 31)][int(rand, 3)]!;
  }
  if (pick < 0.93) return int(rand, 2 ** 32);
  return 0;
}

/** An 8-byte frame header for `payload`, sometimes lying and sometimes bit-flipped. */
function header(rand: Rand, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(8);
  const view = new DataView(out.buffer);
  view.setUint32(0, claimedLength(rand, payload.length), true);
  const pick = rand();
  view.setUint32(4, pick < 0.75 ? 0 : pick < 0.85 ? 2 : int(rand, 2 ** 32), true);
  if (rand() < 0.2) {
    for (let n = 1 + int(rand, 3); n > 0; n--) out[int(rand, 8)]! ^= 1 << int(rand, 8);
  }
  return out;
}

/** What one client sends: maybe Pings first, the (mutated) Connect frame, maybe more, maybe cut. */
function clientBytes(rand: Rand, payload: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  if (rand() < 0.1) {
    for (let n = int(rand, 10); n > 0; n--) parts.push(frame(2, bytesOf(int(rand, 16), 3)));
  }
  parts.push(header(rand, payload), payload);
  if (rand() < 0.1) parts.push(frame(int(rand, 20), bytesOf(int(rand, 64), 4)));
  const bytes = concat(...parts);
  return rand() < 0.1 ? bytes.subarray(0, int(rand, bytes.length + 1)) : bytes;
}

/** `payload` as a view at a random offset of a larger buffer with junk around it. */
function inside(rand: Rand, payload: Uint8Array): Uint8Array {
  const before = 1 + int(rand, 7);
  return concat(bytesOf(before, 0xee), payload, bytesOf(int(rand, 8), 0xee))
    .subarray(before, before + payload.length);
}

type Outcome = "v1" | "v2" | "undecodable" | "incomplete" | "too_many_frames" | string;

/** Feeds `bytes` in random chunks as read_connect.ts does, up to the first Connect. */
function drive(rand: Rand, bytes: Uint8Array): Outcome {
  const decoder = new FrameDecoder(MAX_CONNECT_PAYLOAD);
  // Small chunks split headers and fields everywhere; big ones keep maximal Connects quick.
  const maxChunk = rand() < 0.5 ? (bytes.length > 2048 ? 512 : 64) : 4096;
  let skipped = 0;
  try {
    for (let at = 0; at < bytes.length;) {
      const size = 1 + int(rand, maxChunk);
      decoder.push(bytes.subarray(at, at + size));
      at += size;
      for (let f = decoder.next(); f !== null; f = decoder.next()) {
        assert(f.payload.length <= MAX_CONNECT_PAYLOAD, `frame of ${f.payload.length} bytes`);
        if (f.id === 0) return decoded(decodeConnect(f.payload));
        if (++skipped > MAX_FRAMES_BEFORE_CONNECT) return "too_many_frames";
      }
      assert(decoder.buffered < 8 + MAX_CONNECT_PAYLOAD + size, `buffered ${decoder.buffered}`);
    }
  } catch (err) {
    if (err instanceof ProtocolError) return err.code;
    throw err;
  }
  return "incomplete";
}

function decoded(event: ConnectEvent | null): Outcome {
  if (event === null) return "undecodable";
  assert(event.username.length <= 16 && event.referralDataLength <= 4096, JSON.stringify(event));
  return event.layout;
}

Deno.test(`front door fuzz: ${ITERATIONS} mutated Connect frames through FrameDecoder and decodeConnect raise only ProtocolError`, () => {
  const rand = prng(SEED);
  const outcomes = new Map<Outcome, number>();
  for (let i = 0; i < ITERATIONS; i++) {
    const seed = SEEDS[i % SEEDS.length]!;
    const payload = rand() < 0.9 ? mutate(rand, seed) : seed.slice();
    const bytes = clientBytes(rand, payload);
    let outcome: Outcome;
    try {
      // The payload alone (sometimes as a view into a larger buffer, as a frame's payload could
      // be), then as a client would send it.
      decoded(decodeConnect(rand() < 0.5 ? payload : inside(rand, payload)));
      outcome = drive(rand, bytes);
    } catch (err) {
      throw new Error(`iteration ${i}: ${err}\nbytes: ${toHex(bytes)}`, { cause: err });
    }
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
  }
  // Every path must be reached often enough for the run to mean something.
  const expected = ["v1", "v2", "undecodable", "incomplete", "negative_length", "frame_too_large"];
  for (const kind of [...expected, "too_many_frames"]) {
    const min = kind === "too_many_frames" ? 10 : ITERATIONS / 100;
    const n = outcomes.get(kind) ?? 0;
    assert(n >= min, `${kind}: ${n} of ${ITERATIONS} (${JSON.stringify([...outcomes])})`);
  }
  assert([...outcomes.keys()].every((k) => [...expected, "too_many_frames"].includes(k)));
});
