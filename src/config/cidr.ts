/**
 * CIDR text (`10.0.0.0/8`, `2001:db8::/32`, a bare address for one host) → a {@link CidrRange}.
 *
 * Host bits set (`10.0.0.1/8`) are an error, not a warning: the text has two readings — the
 * network (`10.0.0.0/8`, 16 M addresses) or the one host (`10.0.0.1/32`) — and in an allow or
 * deny list the wrong one silently lets in or shuts out far more than intended. The error names
 * both readings, so fixing it is one edit.
 *
 * An IPv4-mapped IPv6 range (`::ffff:10.0.0.0/104`) is the IPv4 range it maps (`10.0.0.0/8`),
 * because the router counts and matches a client that arrives as `::ffff:a.b.c.d` (the dual-stack
 * listener's spelling of an IPv4 client) as IPv4.
 *
 * @module
 */
import { formatIpAddress, isV4Mapped, parseIpAddress } from "./ip_address.ts";
import type { CidrRange } from "./types.ts";

/** A parsed range, or why the text is not one (with a suggested fix when there is one). */
export type ParsedCidr =
  | { readonly ok: true; readonly range: CidrRange }
  | { readonly ok: false; readonly problem: string; readonly hint: string | null };

/** Parses one CIDR; see the module comment. */
export function parseCidr(text: string): ParsedCidr {
  const slash = text.indexOf("/");
  const addressText = slash < 0 ? text : text.slice(0, slash);
  const words = new Uint32Array(4);
  let family = parseIpAddress(addressText, words);
  if (family === null) return fail(`${JSON.stringify(addressText)} is not an IP address`);
  const max = family === 4 ? 32 : 128;
  let prefixLength = max;
  if (slash >= 0) {
    const digits = text.slice(slash + 1);
    if (!/^(?:0|[1-9][0-9]{0,2})$/.test(digits) || Number(digits) > max) {
      return fail(`prefix length ${JSON.stringify(digits)} is not a number from 0 to ${max}`);
    }
    prefixLength = Number(digits);
  }
  if (family === 6 && isV4Mapped(words) && prefixLength >= 96) {
    family = 4;
    words[0] = words[3]!;
    prefixLength -= 96;
  }
  const count = family === 4 ? 1 : 4;
  const network = Array.from(words.subarray(0, count), (w, i) => maskWord(w, i, prefixLength));
  const host = Array.from(words.subarray(0, count));
  const canonical = `${formatIpAddress(family, network)}/${prefixLength}`;
  if (network.some((w, i) => w !== host[i])) {
    const one = `${formatIpAddress(family, host)}/${count * 32}`;
    return fail(
      `host bits are set after the /${prefixLength} prefix`,
      `write "${canonical}" for the network or "${one}" for the one address`,
    );
  }
  return { ok: true, range: { family, words: network, prefixLength, text: canonical } };
}

/** Word `index` (32 bits each, big-endian) of an address masked to its first `prefix` bits. */
export function maskWord(word: number, index: number, prefix: number): number {
  const bits = prefix - index * 32;
  if (bits >= 32) return word >>> 0;
  if (bits <= 0) return 0;
  return (word & (~0 << (32 - bits))) >>> 0;
}

function fail(problem: string, hint: string | null = null): ParsedCidr {
  return { ok: false, problem, hint };
}
