/**
 * The hook channel's framing (docs/plugins.md §7): every frame is a 4-byte big-endian length and
 * that many bytes of msgpack, at most {@link MAX_FRAME_BYTES}. A request frame is prox's
 * envelope `{t: hook type, d: bin}` where `d` is the msgpack encoding of the hook's data.
 */

import { Encoder } from "@msgpack/msgpack";
import { PluginError } from "../transport.ts";

// One encoder for every frame: `encode()` would build one (and its buffer) per call.
const encoder = new Encoder();

/** Largest frame payload either side may send (1 MiB). */
export const MAX_FRAME_BYTES = 1024 * 1024;

/** Most payload bytes {@link readFrame} asks for before it knows the frame's length. */
const READ_AHEAD_BYTES = 64 * 1024;

/** Hook types of the envelope's `t` (prox's numbering; 1 and 2 are HTTP hooks, never sent). */
export const HOOK_TYPES = {
  on_request: 1,
  on_response: 2,
  on_connect: 3,
  on_disconnect: 4,
} as const;

/** What frames are read from (a `Deno.Conn`, or a test's stand-in). */
export interface ByteReader {
  /** As `Deno.Conn.read`: bytes read into `p`, or `null` at end of stream. */
  read(p: Uint8Array): Promise<number | null>;
}

/** What frames are written to. */
export interface ByteWriter {
  /** As `Deno.Conn.write`: may write fewer bytes than given. */
  write(p: Uint8Array): Promise<number>;
}

/**
 * One request frame: the length prefix, then the envelope `{t, d}` with `data` (already msgpack)
 * as `d`. A frame over the limit throws a `RangeError`: the caller turns it into a failed call.
 */
export function envelopeFrame(type: number, data: Uint8Array): Uint8Array {
  // A view into the encoder's buffer, copied into the frame before the next encode.
  const body = encoder.encodeSharedRef({ t: type, d: data });
  if (body.length > MAX_FRAME_BYTES) {
    throw new RangeError(`frame of ${body.length} bytes is over ${MAX_FRAME_BYTES}`);
  }
  const frame = new Uint8Array(4 + body.length);
  new DataView(frame.buffer).setUint32(0, body.length);
  frame.set(body, 4);
  return frame;
}

/** Writes all of `bytes` (a socket write may take only part of it). */
export async function writeAll(w: ByteWriter, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.length) done += await w.write(bytes.subarray(done));
}

/**
 * Reads one frame's payload. It reads the 4-byte length, refuses a length over
 * {@link MAX_FRAME_BYTES} before reading any of it, then reads exactly that many bytes: nothing
 * of a next frame is ever read, so at most one frame is held. Rejects with a `PluginError`
 * naming `plugin`: `bad_response` for an oversized frame, `unavailable` when the stream ends.
 *
 * `expected` (the payload size of the previous answer, say; at most {@link READ_AHEAD_BYTES}
 * count) lets the first read ask for the length and that many bytes at once: one read instead
 * of two when the frame is no larger. Only a peer that sent more than this one frame can then
 * have more read than the frame: that is a `bad_response` (the caller drops the connection,
 * whose stream is out of step).
 */
export async function readFrame(r: ByteReader, plugin: string, expected = 0): Promise<Uint8Array> {
  const first = new Uint8Array(4 + Math.min(expected, READ_AHEAD_BYTES));
  let have = 0;
  while (have < 4) have += await readSome(r, first.subarray(have), plugin);
  const length = new DataView(first.buffer).getUint32(0);
  if (length > MAX_FRAME_BYTES) {
    throw new PluginError(
      plugin,
      "bad_response",
      `response frame of ${length} bytes is over the ${MAX_FRAME_BYTES}-byte limit`,
    );
  }
  if (have > 4 + length) {
    throw new PluginError(
      plugin,
      "bad_response",
      `${have - 4 - length} bytes came after the ${length}-byte answer (one answer per request)`,
    );
  }
  if (have === 4 + length) return first.subarray(4, have);
  const payload = new Uint8Array(length);
  payload.set(first.subarray(4, have));
  await readExactly(r, payload.subarray(have - 4), plugin);
  return payload;
}

async function readExactly(r: ByteReader, into: Uint8Array, plugin: string): Promise<void> {
  let filled = 0;
  while (filled < into.length) filled += await readSome(r, into.subarray(filled), plugin);
}

async function readSome(r: ByteReader, into: Uint8Array, plugin: string): Promise<number> {
  const n = await r.read(into);
  if (n === null) {
    throw new PluginError(plugin, "unavailable", "the plugin closed the hook connection");
  }
  return n;
}
