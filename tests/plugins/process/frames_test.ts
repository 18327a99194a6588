import assert from "node:assert/strict";
import {
  type ByteReader,
  envelopeFrame,
  MAX_FRAME_BYTES,
  readFrame,
} from "../../../src/plugins/process/frames.ts";
import { PluginError } from "../../../src/plugins/transport.ts";

const hex = (s: string) => Uint8Array.fromHex(s.replace(/\s+/g, ""));

/** A reader over fixed chunks that records how many bytes were asked for and handed out. */
class Chunks implements ByteReader {
  handedOut = 0;
  constructor(readonly chunks: Uint8Array[]) {}
  read(p: Uint8Array): Promise<number | null> {
    const chunk = this.chunks[0];
    if (!chunk) return Promise.resolve(null);
    const n = Math.min(p.length, chunk.length);
    p.set(chunk.subarray(0, n));
    if (n === chunk.length) this.chunks.shift();
    else this.chunks[0] = chunk.subarray(n);
    this.handedOut += n;
    return Promise.resolve(n);
  }
}

Deno.test("envelopeFrame: big-endian length, then the msgpack map {t, d: bin}", () => {
  // 82 (map of 2) a1 't' 03, a1 'd' c4 01 c0 (bin 8 of one byte): 9 bytes.
  assert.deepEqual(envelopeFrame(3, hex("c0")), hex("00000009 82 a174 03 a164 c401c0"));
  // 300 bytes of data: bin 8 holds up to 255, so bin 16 (c5 012c); body 9 + 300 = 309 = 0x135.
  const frame = envelopeFrame(4, new Uint8Array(300));
  assert.deepEqual(frame.subarray(0, 13), hex("00000135 82 a174 04 a164 c5012c"));
  assert.equal(frame.length, 4 + 309);
});

Deno.test("envelopeFrame: data over the 1 MiB frame limit is refused", () => {
  assert.throws(() => envelopeFrame(3, new Uint8Array(MAX_FRAME_BYTES)), RangeError);
});

Deno.test("readFrame: reassembles split chunks and reads nothing of the next frame", async () => {
  const r = new Chunks([hex("0000"), hex("0003 aa"), hex("bbcc 00000001 dd")]);
  assert.deepEqual(await readFrame(r, "p"), hex("aabbcc"));
  assert.equal(r.handedOut, 7, "only the first frame's 7 bytes were read");
  assert.deepEqual(await readFrame(r, "p"), hex("dd"));
});

Deno.test("readFrame with an expected size: one read for a frame no larger", async () => {
  let reads = 0;
  const counted = (r: Chunks): ByteReader => ({ read: (p) => (reads++, r.read(p)) });
  // Exactly the expected size, and smaller: the header and payload come in one read.
  for (
    const [expected, frame, payload] of [[3, "00000003 aabbcc", "aabbcc"], [
      8,
      "00000001 dd",
      "dd",
    ]] as const
  ) {
    reads = 0;
    assert.deepEqual(
      await readFrame(counted(new Chunks([hex(frame)])), "p", expected),
      hex(payload),
    );
    assert.equal(reads, 1);
  }
  // Larger than expected: the rest is read after.
  reads = 0;
  const r = counted(new Chunks([hex("00000004 aabbccdd")]));
  assert.deepEqual(await readFrame(r, "p", 2), hex("aabbccdd"));
  assert.equal(reads, 2);
});

Deno.test("readFrame with an expected size: bytes after the answer are bad_response", async () => {
  const r = new Chunks([hex("00000001 dd 00000001 ee")]);
  const err = await readFrame(r, "guard", 16).catch((e) => e);
  assert.ok(err instanceof PluginError);
  assert.equal(err.kind, "bad_response");
  assert.match(err.message, /5 bytes came after the 1-byte answer/);
});

Deno.test("readFrame: a length over 1 MiB is bad_response before any of it is read", async () => {
  const r = new Chunks([hex("00100001"), new Uint8Array(64)]);
  const err = await readFrame(r, "guard").catch((e) => e);
  assert.ok(err instanceof PluginError);
  assert.equal(err.kind, "bad_response");
  assert.match(err.message, /^plugin "guard": response frame of 1048577 bytes is over/);
  assert.equal(r.handedOut, 4);
  // Exactly 1 MiB is allowed.
  const max = new Chunks([hex("00100000"), new Uint8Array(MAX_FRAME_BYTES)]);
  assert.equal((await readFrame(max, "guard")).length, MAX_FRAME_BYTES);
});

Deno.test("readFrame: the stream ending mid-frame is unavailable", async () => {
  for (const chunks of [[], [hex("0000")], [hex("00000005 aabb")]]) {
    const err = await readFrame(new Chunks(chunks), "guard").catch((e) => e);
    assert.ok(err instanceof PluginError);
    assert.equal(err.kind, "unavailable");
  }
});
