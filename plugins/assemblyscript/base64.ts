// Standard base64 (with padding), as the ConnectRequest/Response `referral_content` uses.

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Encodes bytes as base64. */
export function base64Encode(bytes: Uint8Array): string {
  let out = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (<u32> bytes[i] << 16) | (<u32> bytes[i + 1] << 8) | <u32> bytes[i + 2];
    out += ALPHABET.charAt(n >> 18) + ALPHABET.charAt((n >> 12) & 63) +
      ALPHABET.charAt((n >> 6) & 63) + ALPHABET.charAt(n & 63);
  }
  const rest = bytes.length - i;
  if (rest == 1) {
    const n = <u32> bytes[i] << 16;
    out += ALPHABET.charAt(n >> 18) + ALPHABET.charAt((n >> 12) & 63) + "==";
  } else if (rest == 2) {
    const n = (<u32> bytes[i] << 16) | (<u32> bytes[i + 1] << 8);
    out += ALPHABET.charAt(n >> 18) + ALPHABET.charAt((n >> 12) & 63) +
      ALPHABET.charAt((n >> 6) & 63) + "=";
  }
  return out;
}

/** The UTF-8 bytes of `s` (handy for `referral_content`). */
export function utf8(s: string): Uint8Array {
  return Uint8Array.wrap(String.UTF8.encode(s));
}
