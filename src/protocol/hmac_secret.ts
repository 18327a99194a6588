import { ProtocolError } from "./errors.ts";

const UTF8 = new TextEncoder();
const FIELD = "referral.hmac_secret";

/**
 * Decodes a configured HMAC secret (docs/protocol.md §7.2 "Signing and secrets"). After trimming
 * surrounding whitespace: `base64:<…>` is standard base64 and `hex:<…>` is hex (prefixes
 * case-insensitive, the text after the prefix trimmed again); anything else is used as its
 * UTF-8 bytes. Base64 needs its `=` padding, as Go's `StdEncoding` does (whitespace inside
 * is skipped), so a secret is valid here exactly when the Go router accepts it.
 *
 * An empty secret — blank text, or a prefix with nothing behind it — is rejected with
 * `bad_secret`, as is invalid base64 or hex: HMAC needs a key, and a configured-but-empty
 * secret silently turning signing off would hide a mistake. "Not signed" is expressed by not
 * configuring a secret at all (the config's `hmacSecret: null`). Error messages never contain
 * the secret.
 */
export function parseHmacSecret(text: string): Uint8Array {
  const trimmed = text.trim();
  const lower = trimmed.toLowerCase();
  let secret: Uint8Array;
  if (lower.startsWith("base64:")) {
    secret = decodeOrThrow(
      "base64",
      () => Uint8Array.fromBase64(trimmed.slice(7).trim(), { lastChunkHandling: "strict" }),
    );
  } else if (lower.startsWith("hex:")) {
    secret = decodeOrThrow("hex", () => Uint8Array.fromHex(trimmed.slice(4).trim()));
  } else {
    secret = UTF8.encode(trimmed);
  }
  if (secret.length === 0) {
    throw new ProtocolError(
      "bad_secret",
      `${FIELD}: empty secret (omit the setting to send unsigned envelopes)`,
    );
  }
  return secret;
}

function decodeOrThrow(format: string, decode: () => Uint8Array): Uint8Array {
  try {
    return decode();
  } catch {
    // The decoder's message may quote the input; keep the secret out of logs.
    throw new ProtocolError(
      "bad_secret",
      `${FIELD}: the text after "${format}:" is not valid ${format}`,
    );
  }
}
