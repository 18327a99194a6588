// Deterministic fuzzing: mutated and truncated Connect payloads into decodeConnect, and
// randomly chunked (and corrupted) frame streams into FrameDecoder. A fixed seed keeps every
// run identical, so a failure names an iteration that can be replayed.
import { assert, assertEquals } from "../support/assert.ts";
import {
  type ConnectEvent,
  decodeConnect,
  type Frame,
  FrameDecoder,
  ProtocolError,
} from "../../src/protocol/mod.ts";
import { buildConnectV1, buildConnectV2, frame, toHex } from "../support/hytale_client_codec.ts";

const CONNECT_ITERATIONS = 20_000;
const STREAM_ITERATIONS = 4_000;

/** mulberry32: small, fast, good enough to drive mutations. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rand = ReturnType<typeof prng>;
const int = (rand: Rand, n: number) => Math.floor(rand() * n);

const UUID = "d3e6ef90-e113-49a7-a845-1c11f24fe166";
const HASH = "0123456789abcdef".repeat(4);

/** Valid payloads of both layouts, with optional fields absent and present. */
const SEEDS: readonly Uint8Array[] = [
  buildConnectV2({ uuid: UUID, username: "Krymo", language: "de-DE" }),
  buildConnectV2({
    protocolCrc: -5,
    protocolBuildNumber: 9,
    clientVersion: "2026.01",
    clientType: 1,
    uuid: UUID,
    username: "Player_One",
    language: "en",
    identityToken: "t".repeat(300),
    referralData: new Uint8Array(200).fill(9),
    referralSource: { host: "lobby.example.com", port: 5520 },
  }),
  buildConnectV2({
    uuid: UUID,
    username: "ü",
    language: "pt-BR",
    referralSource: { host: "h", port: 1 },
    order: ["referralSource", "language", "username"],
  }),
  buildConnectV1({ protocolHash: HASH, uuid: UUID }),
  buildConnectV1({
    protocolHash: HASH,
    clientType: 2,
    uuid: UUID,
    language: "fr_FR",
    identityToken: "token",
    username: "Oldie",
    referralData: new Uint8Array(16),
    referralSource: { host: "10.0.0.1", port: 5521 },
  }),
];

/** Offsets that stress bounds arithmetic when written into an offset slot. */
const NASTY_I32 = [-1, -2, -0x8000_0000, 0x7fff_ffff, 0x7fff_ff00, 0, 1, 65, 101, 4096];

function mutate(rand: Rand, input: Uint8Array): Uint8Array {
  let bytes: Uint8Array = input.slice();
  const rounds = 1 + int(rand, 4);
  for (let r = 0; r < rounds; r++) bytes = mutateOnce(rand, bytes);
  return bytes;
}

function mutateOnce(rand: Rand, bytes: Uint8Array): Uint8Array {
  const at = int(rand, bytes.length + 1);
  switch (int(rand, 7)) {
    case 0: // flip one bit
      if (at < bytes.length) bytes[at] = (bytes[at] ?? 0) ^ (1 << int(rand, 8));
      return bytes;
    case 1: // replace one byte
      if (at < bytes.length) bytes[at] = int(rand, 256);
      return bytes;
    case 2: { // insert up to 8 random bytes
      const extra = Uint8Array.from({ length: 1 + int(rand, 8) }, () => int(rand, 256));
      return concat(bytes.subarray(0, at), extra, bytes.subarray(at));
    }
    case 3: // remove up to 8 bytes
      return concat(bytes.subarray(0, at), bytes.subarray(at + 1 + int(rand, 8)));
    case 4: // truncate
      return bytes.slice(0, at);
    case 5: { // a nasty value in an offset slot (v2 46..62, v1 82..98) or anywhere
      const slots = [46, 50, 54, 58, 62, 82, 86, 90, 94, 98];
      const pos = rand() < 0.8 ? slots[int(rand, slots.length)] ?? 0 : at;
      if (pos + 4 <= bytes.length) {
        const value = rand() < 0.7
          ? NASTY_I32[int(rand, NASTY_I32.length)] ?? -1
          : int(rand, 2 ** 32) | 0;
        new DataView(bytes.buffer, bytes.byteOffset).setInt32(pos, value, true);
      }
      return bytes;
    }
    default: // a run of VarInt continuation bytes
      bytes.fill(0x80 | int(rand, 128), at, at + 1 + int(rand, 7));
      return bytes;
  }
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

const UUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** What any decoded event must satisfy, however strange its input. */
function checkInvariants(event: ConnectEvent): void {
  assert(event.layout === "v1" || event.layout === "v2");
  assert(UUID_TEXT.test(event.uuid), event.uuid);
  assert(Number.isInteger(event.clientType) && event.clientType >= 0 && event.clientType <= 255);
  // n bytes of UTF-8 decode to at most n UTF-16 code units.
  assert(event.username.length <= 16);
  assert(event.language.length <= (event.layout === "v1" ? 128 : 16));
  assert(event.protocolHash.length <= (event.layout === "v1" ? 64 : 20));
  assert(event.referralDataLength >= 0 && event.referralDataLength <= 4096);
  assert(event.referralSource === null || event.referralSource.host.length <= 256);
  if (event.layout === "v1") assertEquals([event.protocolCrc, event.clientVersion], [0, ""]);
  assert(Number.isInteger(event.protocolCrc) && Math.abs(event.protocolCrc) <= 2 ** 31);
}

Deno.test(`decodeConnect never throws on ${CONNECT_ITERATIONS} mutated payloads`, () => {
  const rand = prng(0x5eed_c0de);
  const outcomes = { v1: 0, v2: 0, null: 0 };
  for (let i = 0; i < CONNECT_ITERATIONS; i++) {
    const input = mutate(rand, SEEDS[i % SEEDS.length] ?? new Uint8Array(0));
    const before = toHex(input);
    let event: ConnectEvent | null;
    try {
      event = decodeConnect(input);
    } catch (err) {
      throw new Error(`iteration ${i}: decodeConnect threw ${err} for ${before}`);
    }
    assertEquals(toHex(input), before, `iteration ${i}: input was modified`);
    if (event === null) {
      outcomes.null++;
    } else {
      outcomes[event.layout]++;
      checkInvariants(event);
    }
  }
  // The mutations must reach success and failure paths of both layouts to mean anything.
  for (const [outcome, count] of Object.entries(outcomes)) {
    assert(count > CONNECT_ITERATIONS / 20, `${outcome}: only ${count} of ${CONNECT_ITERATIONS}`);
  }
});

function randomFrames(rand: Rand, maxPayload: number): Frame[] {
  return Array.from({ length: 1 + int(rand, 5) }, () => ({
    id: rand() < 0.5 ? int(rand, 20) : int(rand, 2 ** 32),
    payload: Uint8Array.from({ length: int(rand, maxPayload + 1) }, () => int(rand, 256)),
  }));
}

/** Pushes `stream` in random-size chunks, draining after each; returns frames and any error. */
function feed(rand: Rand, decoder: FrameDecoder, stream: Uint8Array, maxPayload: number) {
  const frames: Frame[] = [];
  let at = 0;
  try {
    while (at < stream.length) {
      const size = 1 + int(rand, rand() < 0.8 ? 16 : 400);
      decoder.push(stream.subarray(at, at + size));
      at += size;
      for (let f = decoder.next(); f !== null; f = decoder.next()) frames.push(f);
      assert(decoder.buffered < 8 + maxPayload + size, `buffered ${decoder.buffered}`);
    }
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
    return { frames, error: err };
  }
  return { frames, error: null };
}

Deno.test(`FrameDecoder: ${STREAM_ITERATIONS} randomly chunked streams, clean and corrupted`, () => {
  const rand = prng(0xf4a3e5);
  let errors = 0;
  for (let i = 0; i < STREAM_ITERATIONS; i++) {
    const maxPayload = int(rand, 300);
    const frames = randomFrames(rand, maxPayload);
    const clean = concat(...frames.map((f) => frame(f.id, f.payload)));
    const corrupt = i % 2 === 1;
    const stream = corrupt ? mutate(rand, clean) : clean;
    const result = feed(rand, new FrameDecoder(maxPayload), stream, maxPayload);
    if (!corrupt) {
      assertEquals(result, { frames, error: null }, `iteration ${i}`);
      continue;
    }
    if (result.error !== null) {
      errors++;
      assert(["negative_length", "frame_too_large"].includes(result.error.code));
    }
    result.frames.forEach((f) => assert(f.payload.length <= maxPayload));
  }
  assert(errors > STREAM_ITERATIONS / 20, `only ${errors} corrupted streams were rejected`);
});
