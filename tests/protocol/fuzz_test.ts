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
import { concat, int, mutate, prng, type Rand } from "../support/mutate.ts";

const CONNECT_ITERATIONS = 20_000;
const STREAM_ITERATIONS = 4_000;

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
