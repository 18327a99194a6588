import { assert, assertEquals, assertThrows } from "../support/assert.ts";
import {
  decodeConnect,
  type Frame,
  FrameDecoder,
  MAX_CONNECT_PAYLOAD,
  ProtocolError,
} from "../../src/protocol/mod.ts";
import { buildConnectV1, frame, hex } from "../support/hytale_client_codec.ts";

/** Everything `next()` yields right now. */
function drain(decoder: FrameDecoder): Frame[] {
  const out: Frame[] = [];
  for (let f = decoder.next(); f !== null; f = decoder.next()) out.push(f);
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

Deno.test("a frame delivered one byte at a time comes out once, when complete", () => {
  const bytes = frame(0, hex("0102030405"));
  const decoder = new FrameDecoder(64);
  for (let i = 0; i < bytes.length - 1; i++) {
    decoder.push(bytes.subarray(i, i + 1));
    assertEquals(decoder.next(), null);
  }
  decoder.push(bytes.subarray(bytes.length - 1));
  assertEquals(decoder.next(), { id: 0, payload: hex("0102030405") });
  assertEquals(decoder.next(), null);
  assertEquals(decoder.buffered, 0);
});

Deno.test("several frames in one chunk, including an empty payload", () => {
  const decoder = new FrameDecoder(64);
  decoder.push(concat(frame(2, hex("aa")), frame(3, new Uint8Array(0)), frame(0, hex("bbcc"))));
  assertEquals(drain(decoder), [
    { id: 2, payload: hex("aa") },
    { id: 3, payload: new Uint8Array(0) },
    { id: 0, payload: hex("bbcc") },
  ]);
});

Deno.test("two frames split at every possible point", () => {
  const stream = concat(frame(2, hex("010203")), frame(0, hex("0405060708")));
  for (let cut = 0; cut <= stream.length; cut++) {
    const decoder = new FrameDecoder(16);
    decoder.push(stream.subarray(0, cut));
    const first = drain(decoder);
    decoder.push(stream.subarray(cut));
    assertEquals([...first, ...drain(decoder)], [
      { id: 2, payload: hex("010203") },
      { id: 0, payload: hex("0405060708") },
    ], `cut at ${cut}`);
  }
});

Deno.test("the payload is a copy: reusing the read buffer does not change it", () => {
  const chunk = frame(0, hex("0a0b"));
  const decoder = new FrameDecoder(16);
  decoder.push(chunk);
  chunk.fill(0);
  assertEquals(decoder.next(), { id: 0, payload: hex("0a0b") });
});

Deno.test("negative payload_len throws as soon as the 8th header byte arrives", () => {
  const header = hex("ffffffff" + "00000000");
  const decoder = new FrameDecoder(64);
  decoder.push(header.subarray(0, 7));
  assertEquals(decoder.next(), null);
  const err = assertThrows(() => decoder.push(header.subarray(7)), ProtocolError);
  assertEquals(err.code, "negative_length");
  assert(err.message.includes("-1") && err.message.includes("Connect"), err.message);
});

Deno.test("payload_len above the cap throws before any payload byte is kept", () => {
  const decoder = new FrameDecoder(100);
  // The header announces 101 bytes and the chunk already carries them: none may be buffered.
  const err = assertThrows(() => decoder.push(frame(18, new Uint8Array(101))), ProtocolError);
  assertEquals(err.code, "frame_too_large");
  assert(err.message.includes("101") && err.message.includes("18 (ClientReferral)"), err.message);
  assertEquals(decoder.buffered, 0);
  // The decoder is spent: every later call fails the same way.
  assertEquals(assertThrows(() => decoder.push(hex("00")), ProtocolError), err);
  assertEquals(assertThrows(() => decoder.next(), ProtocolError), err);
});

Deno.test("payload_len equal to the cap is accepted; u32 lengths ≥ 2^31 count as negative", () => {
  const decoder = new FrameDecoder(100);
  decoder.push(frame(0, new Uint8Array(100)));
  assertEquals(decoder.next()?.payload.length, 100);
  const huge = new FrameDecoder(100);
  assertEquals(
    assertThrows(() => huge.push(hex("00000080" + "00000000")), ProtocolError).code,
    "negative_length",
  );
});

Deno.test("while a capped frame trickles in, the buffer never exceeds header + cap", () => {
  const max = 300;
  const decoder = new FrameDecoder(max);
  const stream = concat(frame(0, new Uint8Array(max).fill(7)), frame(2, new Uint8Array(max)));
  let frames = 0;
  for (let i = 0; i < stream.length; i += 7) {
    decoder.push(stream.subarray(i, i + 7));
    frames += drain(decoder).length;
    assert(decoder.buffered <= 8 + max, `buffered ${decoder.buffered} after ${i} bytes`);
  }
  assertEquals(frames, 2);
});

Deno.test("a bad header after a good frame does not lose the good frame", () => {
  const decoder = new FrameDecoder(8);
  decoder.push(concat(frame(2, hex("01")), hex("09000000" + "00000000")));
  assertEquals(decoder.next(), { id: 2, payload: hex("01") });
  assertEquals(assertThrows(() => decoder.next(), ProtocolError).code, "frame_too_large");
});

Deno.test("a cap of 0 accepts only empty payloads", () => {
  const decoder = new FrameDecoder(0);
  decoder.push(frame(2, new Uint8Array(0)));
  assertEquals(decoder.next(), { id: 2, payload: new Uint8Array(0) });
  assertEquals(
    assertThrows(() => decoder.push(frame(2, hex("00"))), ProtocolError).code,
    "frame_too_large",
  );
});

Deno.test("the constructor rejects a cap that is not a non-negative i32", () => {
  assertEquals(assertThrows(() => new FrameDecoder(-1), ProtocolError).code, "bad_value");
  assertEquals(assertThrows(() => new FrameDecoder(2 ** 31), ProtocolError).code, "bad_value");
  assertEquals(assertThrows(() => new FrameDecoder(1.5), ProtocolError).code, "bad_value");
});

Deno.test("MAX_CONNECT_PAYLOAD holds the largest well-formed Connect", () => {
  const largest = buildConnectV1({
    protocolHash: "f".repeat(64),
    uuid: "00000000-0000-0000-0000-000000000000",
    language: "l".repeat(128),
    identityToken: "t".repeat(8192),
    username: "u".repeat(16),
    referralData: new Uint8Array(4096),
    referralSource: { host: "h".repeat(256), port: 5520 },
  });
  assertEquals(largest.length, 12_801);
  assert(largest.length <= MAX_CONNECT_PAYLOAD);
  const decoder = new FrameDecoder(MAX_CONNECT_PAYLOAD);
  decoder.push(frame(0, largest));
  const connect = decoder.next();
  assert(connect !== null);
  assertEquals(decodeConnect(connect.payload)?.referralDataLength, 4096);
});
