/**
 * HPACK header compression (RFC 7541) for one HTTP/2 connection.
 *
 * Encoding is this client's own and uses no dynamic table: every field is a static-table index
 * or a literal without indexing (§6.2.2), strings raw rather than Huffman-coded. Such a block
 * means the same thing whatever the connection's state, so a call's headers are encoded once
 * per plugin (`grpc_wire.ts`) instead of once per call, and the only encoder state left is a
 * pending dynamic table size update.
 *
 * Decoding must follow the server's dynamic table, so it uses `npm:hpack.js`. Its decompressor
 * is a Node stream that processes a `write` synchronously. Facts that matter: the table option
 * is `table.maxSize` (the README's `size` makes a table that never evicts); decode failures
 * arrive as an `'error'` event, which would crash the process if nobody listened; and the table
 * is connection state, so every received header block must be decoded — including those of
 * streams this side has already cancelled.
 */
import hpack from "hpack.js";

/** One header field; HTTP/2 field names are lower case. */
export interface HeaderField {
  readonly name: string;
  readonly value: string;
}

/** The protocol's default (and this client's) SETTINGS_HEADER_TABLE_SIZE. */
export const HEADER_TABLE_SIZE = 4096;

/** A header block could not be decoded; the connection's HPACK state is lost (COMPRESSION_ERROR). */
export class HpackError extends Error {
  override readonly name = "HpackError";
}

// ---- encoding ----

// Static-table entries (RFC 7541 Appendix A) of the fields this client sends: whole fields
// ("name: value") and names alone.
const STATIC_FIELDS: ReadonlyMap<string, number> = new Map([
  [":method: POST", 3],
  [":scheme: http", 6],
]);
const STATIC_NAMES: ReadonlyMap<string, number> = new Map([
  [":authority", 1],
  [":path", 4],
  ["content-type", 31],
  ["user-agent", 58],
]);

/**
 * The header block of `fields`, in order, using no dynamic table: a static index for a whole
 * field found there, else a literal without indexing. The bytes never depend on earlier blocks.
 */
export function encodeFields(fields: readonly HeaderField[]): Uint8Array {
  const out: number[] = [];
  for (const { name, value } of fields) {
    const full = STATIC_FIELDS.get(`${name}: ${value}`);
    if (full !== undefined) {
      encodeInt(out, 0x80, 7, full); // indexed field (§6.1)
      continue;
    }
    // Literal without indexing (§6.2.2): 0000 + 4-bit name index, 0 = literal name follows.
    const nameIndex = STATIC_NAMES.get(name) ?? 0;
    encodeInt(out, 0x00, 4, nameIndex);
    if (nameIndex === 0) encodeString(out, name);
    encodeString(out, value);
  }
  return Uint8Array.from(out);
}

/**
 * A dynamic table size update (§6.3). Sent at the start of the first block after the peer
 * lowers SETTINGS_HEADER_TABLE_SIZE: a decoder such as nghttp2 requires it, even from an
 * encoder that never inserts anything.
 */
export function encodeTableSizeUpdate(size: number): Uint8Array {
  const out: number[] = [];
  encodeInt(out, 0x20, 5, size);
  return Uint8Array.from(out);
}

// An integer with an N-bit prefix (§5.1); `flags` fills the octet's bits above the prefix.
function encodeInt(out: number[], flags: number, prefixBits: number, value: number): void {
  const max = (1 << prefixBits) - 1;
  if (value < max) {
    out.push(flags | value);
    return;
  }
  out.push(flags | max);
  let rest = value - max;
  while (rest >= 0x80) {
    out.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  out.push(rest);
}

// A string literal without Huffman coding (§5.2): H = 0, 7-bit prefix length, octets.
function encodeString(out: number[], text: string): void {
  const bytes = new TextEncoder().encode(text);
  encodeInt(out, 0x00, 7, bytes.length);
  for (const b of bytes) out.push(b);
}

// ---- decoding ----

// The parts of hpack.js's decompressor used here (it ships no type declarations).
interface Decompressor {
  write(block: Uint8Array): boolean;
  execute(): void;
  read(): { name: string; value: string } | null;
  on(event: "error", listener: (err: unknown) => void): void;
}
interface HpackModule {
  decompressor: { create(options: { table: { maxSize: number } }): Decompressor };
}
const lib = hpack as unknown as HpackModule;

// Remembered results of short all-indexed blocks; a server repeats a handful of them.
const MAX_CACHED_BLOCK = 6;
const MAX_CACHE_ENTRIES = 16;

/**
 * Decodes header blocks, keeping the connection's decoder table.
 *
 * Once its table holds a call's fields, a server answers with blocks made only of one-octet
 * indexed fields (grpc-go: `88 c0` then `bf be`). Such a block reads the table without
 * changing it, so while no other block has arrived its fields are the same as last time and
 * are served from a small cache instead of the library; any other block may change the table
 * and empties the cache.
 */
export class HeaderDecoder {
  readonly #decompressor = lib.decompressor.create({ table: { maxSize: HEADER_TABLE_SIZE } });
  readonly #cache = new Map<number, readonly HeaderField[]>();
  #failure: unknown = null;

  constructor() {
    this.#decompressor.on("error", (err) => {
      this.#failure = err;
    });
  }

  /** The fields of one complete header block; throws `HpackError` on malformed input. */
  decode(block: Uint8Array): readonly HeaderField[] {
    const key = indexedBlockKey(block);
    if (key === null) {
      this.#cache.clear();
      return this.#decodeWithLibrary(block);
    }
    const cached = this.#cache.get(key);
    if (cached !== undefined) return cached;
    const fields = this.#decodeWithLibrary(block);
    if (this.#cache.size >= MAX_CACHE_ENTRIES) this.#cache.clear();
    this.#cache.set(key, fields);
    return fields;
  }

  #decodeWithLibrary(block: Uint8Array): readonly HeaderField[] {
    if (this.#failure !== null) throw new HpackError("decoder failed earlier on this connection");
    this.#decompressor.write(block);
    this.#decompressor.execute();
    const fields: HeaderField[] = [];
    for (let f = this.#decompressor.read(); f !== null; f = this.#decompressor.read()) {
      fields.push({ name: f.name, value: f.value });
    }
    if (this.#failure !== null) {
      throw new HpackError(`malformed header block: ${String(this.#failure)}`, {
        cause: this.#failure,
      });
    }
    return fields;
  }
}

/**
 * A cache key for a short block of one-octet indexed fields (each octet 0x81–0xfe: indexes
 * 1–126, §6.1), else `null`. The octets read as a base-256 number: none is zero, so blocks of
 * different lengths cannot collide, and six octets stay within a double's exact range.
 */
function indexedBlockKey(block: Uint8Array): number | null {
  if (block.length === 0 || block.length > MAX_CACHED_BLOCK) return null;
  let key = 0;
  for (const b of block) {
    if (b <= 0x80 || b === 0xff) return null;
    key = key * 256 + b;
  }
  return key;
}
