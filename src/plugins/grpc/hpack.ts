/**
 * HPACK header compression (RFC 7541) for one HTTP/2 connection, over `npm:hpack.js`.
 *
 * hpack.js exposes its compressor and decompressor as Node streams; both process a `write`
 * synchronously, so a header block is encoded or decoded in one call here. Facts that matter:
 * the table option is `table.maxSize` (the README's `size` makes a table that never evicts, and
 * the Go server then drops the connection after a dozen calls); decode failures arrive as an
 * `'error'` event, which would crash the process if nobody listened; and both tables are
 * connection state, so every received header block must be decoded — including those of streams
 * this side has already cancelled.
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

// The parts of hpack.js's stream classes used here (it ships no type declarations).
interface Compressor {
  write(headers: Array<{ name: string; value: string; huffman?: boolean }>): boolean;
  read(): Uint8Array | null;
  updateTableSize(size: number): void;
}
interface Decompressor {
  write(block: Uint8Array): boolean;
  execute(): void;
  read(): { name: string; value: string } | null;
  on(event: "error", listener: (err: unknown) => void): void;
}
interface HpackModule {
  compressor: { create(options: { table: { maxSize: number } }): Compressor };
  decompressor: { create(options: { table: { maxSize: number } }): Decompressor };
}
const lib = hpack as unknown as HpackModule;

/** Encodes header lists into header blocks, keeping the connection's encoder table. */
export class HeaderEncoder {
  readonly #compressor = lib.compressor.create({ table: { maxSize: HEADER_TABLE_SIZE } });

  /** The header block for `fields`, in order. */
  encode(fields: readonly HeaderField[]): Uint8Array {
    this.#compressor.write(fields.map(({ name, value }) => ({ name, value })));
    const chunks: Uint8Array[] = [];
    for (let chunk = this.#compressor.read(); chunk !== null; chunk = this.#compressor.read()) {
      chunks.push(chunk);
    }
    return chunks.length === 1 ? chunks[0]! : concat(chunks);
  }

  /**
   * Applies the peer's SETTINGS_HEADER_TABLE_SIZE. Only shrinking matters: this encoder never
   * grows its table past the default, and evicting earlier than the decoder keeps every index it
   * emits valid on the other side.
   */
  limitTableSize(size: number): void {
    if (size < HEADER_TABLE_SIZE) this.#compressor.updateTableSize(size);
  }
}

/** Decodes header blocks, keeping the connection's decoder table. */
export class HeaderDecoder {
  readonly #decompressor = lib.decompressor.create({ table: { maxSize: HEADER_TABLE_SIZE } });
  #failure: unknown = null;

  constructor() {
    this.#decompressor.on("error", (err) => {
      this.#failure = err;
    });
  }

  /** The fields of one complete header block; throws `HpackError` on malformed input. */
  decode(block: Uint8Array): HeaderField[] {
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

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}
