/**
 * Seeded mutation for fuzz tests: a small PRNG and byte-level mutations that stress the
 * Connect decoder's bounds arithmetic (offset slots, VarInt runs, truncation). Every run with
 * the same seed is identical, so a failure names an iteration that can be replayed.
 */

/** mulberry32: small, fast, good enough to drive mutations. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A PRNG from {@link prng}: uniform in [0, 1). */
export type Rand = ReturnType<typeof prng>;
/** A uniform integer in 0..n-1. */
export const int = (rand: Rand, n: number) => Math.floor(rand() * n);

/** Offsets that stress bounds arithmetic when written into an offset slot. */
const NASTY_I32 = [-1, -2, -0x8000_0000, 0x7fff_ffff, 0x7fff_ff00, 0, 1, 65, 101, 4096];

/**
 * A mutated copy of `input` (never `input` itself): 1–4 rounds of a bit flip, a byte replaced,
 * bytes inserted or removed, a truncation, a nasty i32 in an offset slot of either Connect
 * layout, or a run of VarInt continuation bytes.
 */
export function mutate(rand: Rand, input: Uint8Array): Uint8Array {
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

/** The parts one after another, in a new array. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
