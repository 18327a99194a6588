// Standard base64 (with padding), as the ConnectRequest/Response `referral_content` uses.

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Encodes bytes as base64. */
export function base64Encode(bytes: Uint8Array): string {
  // Written into one byte buffer and decoded once (string concatenation per character
  // allocated a string per step).
  const out = new Uint8Array(((bytes.length + 2) / 3) * 4);
  let o = 0;
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (<u32> bytes[i] << 16) | (<u32> bytes[i + 1] << 8) | <u32> bytes[i + 2];
    out[o++] = <u8> ALPHABET.charCodeAt(n >> 18);
    out[o++] = <u8> ALPHABET.charCodeAt((n >> 12) & 63);
    out[o++] = <u8> ALPHABET.charCodeAt((n >> 6) & 63);
    out[o++] = <u8> ALPHABET.charCodeAt(n & 63);
  }
  const rest = bytes.length - i;
  if (rest > 0) {
    const n = (<u32> bytes[i] << 16) | (rest == 2 ? <u32> bytes[i + 1] << 8 : 0);
    out[o++] = <u8> ALPHABET.charCodeAt(n >> 18);
    out[o++] = <u8> ALPHABET.charCodeAt((n >> 12) & 63);
    out[o++] = rest == 2 ? <u8> ALPHABET.charCodeAt((n >> 6) & 63) : 0x3d;
    out[o++] = 0x3d;
  }
  return String.UTF8.decodeUnsafe(out.dataStart, <usize> o);
}

/** The UTF-8 bytes of `s` (handy for `referral_content`). */
export function utf8(s: string): Uint8Array {
  return Uint8Array.wrap(String.UTF8.encode(s));
}
