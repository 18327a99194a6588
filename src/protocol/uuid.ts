import { ProtocolError } from "./errors.ts";

const HEX: readonly string[] = Array.from(
  { length: 256 },
  (_, b) => b.toString(16).padStart(2, "0"),
);
const UUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `text` is a UUID in `8-4-4-4-12` hex form (either case). */
export function isUuidText(text: string): boolean {
  return UUID_TEXT.test(text);
}

/**
 * Renders 16 bytes at `pos` as lower-case `8-4-4-4-12`. The wire form is two big-endian u64
 * (most significant half first), so the text is simply the bytes in order. The caller has
 * checked that the 16 bytes exist.
 */
export function formatUuid(bytes: Uint8Array, pos: number): string {
  let out = "";
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) out += "-";
    out += HEX[bytes[pos + i] ?? 0];
  }
  return out;
}

/** Parses `8-4-4-4-12` hex text (either case) into its 16 wire bytes. */
export function parseUuid(text: string, field: string): Uint8Array {
  if (!isUuidText(text)) {
    throw new ProtocolError("bad_string", `${field}: not a UUID in 8-4-4-4-12 form`);
  }
  return Uint8Array.fromHex(text.replaceAll("-", ""));
}
