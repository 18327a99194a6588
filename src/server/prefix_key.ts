/**
 * A client's prefix as a compact map key: the masked address as a fixed-length string of 16-bit
 * code units — 2 for IPv4, 8 for IPv6, so the families never collide — built once per connection
 * with one `String.fromCharCode` (no text formatting, no bigint). Lone surrogates are fine in a
 * JS string used as a key.
 *
 * @module
 */
import { maskWord } from "../config/mod.ts";

/** The key of an address that could not be read (never produced by Deno; kept apart). */
export const UNREADABLE_KEY = "";

/** The key of the `prefix`-bit prefix of the address in `words` (`parseIpAddress` layout). */
export function prefixKey(family: 4 | 6, words: ArrayLike<number>, prefix: number): string {
  if (family === 4) {
    const w = maskWord(words[0]!, 0, prefix);
    return String.fromCharCode(w >>> 16, w & 0xffff);
  }
  const a = maskWord(words[0]!, 0, prefix), b = maskWord(words[1]!, 1, prefix);
  const c = maskWord(words[2]!, 2, prefix), d = maskWord(words[3]!, 3, prefix);
  return String.fromCharCode(
    a >>> 16,
    a & 0xffff,
    b >>> 16,
    b & 0xffff,
    c >>> 16,
    c & 0xffff,
    d >>> 16,
    d & 0xffff,
  );
}

/**
 * The key `key` maps to under new prefix lengths (a reload changed one): exact when the new
 * prefix is no longer than the one the key was made with; a longer one keeps the key's network
 * address (whose low bits were dropped), so its connections still count, under one sub-prefix.
 */
export function rekey(key: string, ipv4Prefix: number, ipv6Prefix: number): string {
  if (key.length !== 2 && key.length !== 8) return key;
  const words: number[] = [];
  for (let i = 0; i < key.length; i += 2) {
    words.push(((key.charCodeAt(i) << 16) | key.charCodeAt(i + 1)) >>> 0);
  }
  return key.length === 2 ? prefixKey(4, words, ipv4Prefix) : prefixKey(6, words, ipv6Prefix);
}
