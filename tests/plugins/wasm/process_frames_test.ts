/**
 * The frames between the router and a plugin's child process: every frame survives a round trip
 * whatever the chunking, and what a corrupted child could send — oversized, unknown, malformed —
 * is a `FrameError` (as soon as the header says so, before any body is buffered).
 */
import assert from "node:assert/strict";
import {
  encodeFrame,
  type Frame,
  FrameError,
  FrameReader,
  MAX_FRAME_BYTES,
} from "../../../src/plugins/wasm/process_frames.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

const FRAMES: Frame[] = [
  {
    t: "init",
    init: {
      name: "p",
      prepare: { path: "p.wasm", sha256: null, maxMemoryBytes: 65536 },
      config: '{"a":1}',
      instances: 2,
      initTimeoutMs: 5000,
      terminateGraceMs: 1000,
    },
    module: Uint8Array.of(0, 0x61, 0x73, 0x6d),
  },
  { t: "call", id: 4294967295, timeoutMs: 250, request: bytes('{"username":"Krymo"}') },
  { t: "ready" },
  { t: "init_failed", message: "p.wasm: does not export required function" },
  { t: "answer", id: 7, kind: "ok", body: bytes("{}") },
  { t: "answer", id: 8, kind: "bad_response", body: bytes("not json") },
  { t: "log", level: 3, source: "stderr", text: "boom\u2028ünï" },
  { t: "abandoned" },
];

function readAll(reader: FrameReader): Frame[] {
  const out: Frame[] = [];
  for (let f = reader.next(); f !== null; f = reader.next()) out.push(f);
  return out;
}

Deno.test("process frames: every frame round-trips, in one chunk or byte by byte", () => {
  const wire = FRAMES.map(encodeFrame);
  const whole = new Uint8Array(wire.reduce((n, w) => n + w.length, 0));
  wire.reduce((at, w) => (whole.set(w, at), at + w.length), 0);
  const together = new FrameReader(1 << 20);
  together.push(whole);
  assert.deepEqual(readAll(together), FRAMES);
  const trickle = new FrameReader(1 << 20);
  const got: Frame[] = [];
  for (const b of whole) {
    trickle.push(Uint8Array.of(b));
    got.push(...readAll(trickle));
  }
  assert.deepEqual(got, FRAMES);
});

Deno.test("process frames: a header over the limit is refused before its body arrives", () => {
  const reader = new FrameReader();
  const header = new Uint8Array(5);
  new DataView(header.buffer).setUint32(0, MAX_FRAME_BYTES + 1, true);
  reader.push(header);
  assert.throws(() => reader.next(), (e) => e instanceof FrameError && e.code === "bad_frame");
  // The largest answer the channel allows still fits.
  const big = encodeFrame({ t: "answer", id: 1, kind: "ok", body: new Uint8Array(16 << 20) });
  const ok = new FrameReader();
  ok.push(big);
  assert.equal((ok.next() as Extract<Frame, { t: "answer" }>).body.length, 16 << 20);
});

Deno.test("process frames: unknown types, kinds, levels and short bodies are refused", () => {
  const bad = [
    Uint8Array.of(1, 0, 0, 0, 99), // type 99
    Uint8Array.of(0, 0, 0, 0), // empty frame
    Uint8Array.of(6, 0, 0, 0, 4, 1, 0, 0, 0, 9), // answer of kind 9
    Uint8Array.of(3, 0, 0, 0, 4, 1, 0), // answer too short
    Uint8Array.of(4, 0, 0, 0, 5, 7, 0, 120), // log level 7
    Uint8Array.of(4, 0, 0, 0, 5, 1, 200, 120), // log source longer than the frame
  ];
  for (const wire of bad) {
    const reader = new FrameReader();
    reader.push(wire);
    assert.throws(() => reader.next(), FrameError, `accepted ${wire.join(",")}`);
  }
});
