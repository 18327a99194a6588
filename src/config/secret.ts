/** A decoded secret, or why it could not be decoded. */
export type DecodedSecret =
  | { readonly ok: true; readonly bytes: Uint8Array }
  | { readonly ok: false; readonly problem: string };

// Go's base64.StdEncoding: padded standard alphabet; it skips \r and \n but nothing else.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const HEX = /^(?:[0-9a-fA-F]{2})*$/;

/**
 * Decodes a referral HMAC secret as Hyrouter does: surrounding whitespace is trimmed; a
 * `base64:` or `hex:` prefix (any case, payload trimmed too) selects that encoding; anything else
 * is used as its UTF-8 bytes. A secret that decodes to no bytes is rejected (it would silently
 * turn signing off).
 */
export function decodeSecret(text: string): DecodedSecret {
  const trimmed = text.trim();
  const lower = trimmed.toLowerCase();
  if (lower.startsWith("base64:")) return base64(trimmed.slice("base64:".length).trim());
  if (lower.startsWith("hex:")) return hex(trimmed.slice("hex:".length).trim());
  if (trimmed === "") return { ok: false, problem: "secret is empty" };
  return { ok: true, bytes: new TextEncoder().encode(trimmed) };
}

function base64(payload: string): DecodedSecret {
  const clean = payload.replace(/[\r\n]/g, "");
  if (!BASE64.test(clean)) {
    return { ok: false, problem: "invalid base64 (standard alphabet with = padding expected)" };
  }
  const binary = atob(clean);
  return nonEmpty(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
}

function hex(payload: string): DecodedSecret {
  if (!HEX.test(payload)) {
    return { ok: false, problem: "invalid hex (an even number of 0-9a-f digits expected)" };
  }
  const bytes = new Uint8Array(payload.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(payload.slice(2 * i, 2 * i + 2), 16);
  return nonEmpty(bytes);
}

function nonEmpty(bytes: Uint8Array): DecodedSecret {
  return bytes.length === 0
    ? { ok: false, problem: "secret decodes to no bytes" }
    : { ok: true, bytes };
}
