/**
 * IP address text → 32-bit words, strict and allocation-free. One parser serves both the config
 * (`access` CIDRs, checked once at load) and the router's accept path (every client address), so
 * a range and a client address can never be read differently.
 *
 * Accepted: dotted IPv4 with exactly four decimal octets (no leading zeros: `010.0.0.1` is
 * ambiguous between decimal and octal, and Go's `net.ParseIP` refuses it too), and IPv6 in RFC 4291
 * text form — one to four hex digits per group, at most one `::`, an optional dotted IPv4 tail.
 * Not accepted: zone ids (`fe80::1%eth0`), brackets, surrounding space.
 *
 * @module
 */

/** The address family a parse found: 4 (one word in `words[0]`) or 6 (`words[0..3]`). */
export type IpFamily = 4 | 6;

// Scratch for IPv6 groups; the parser is synchronous, so one buffer serves every call.
const GROUPS = new Uint16Array(8);

/**
 * Parses `text` into big-endian 32-bit words: IPv4 into `words[0]`, IPv6 into `words[0..3]`.
 * Returns the family, or `null` when `text` is not an address (then `words` is unspecified).
 * An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is IPv6 here; callers that treat it as IPv4 test
 * {@link isV4Mapped}.
 */
export function parseIpAddress(text: string, words: Uint32Array): IpFamily | null {
  const v4 = parseV4(text, 0);
  if (v4 >= 0) {
    words[0] = v4;
    return 4;
  }
  if (!parseV6Groups(text)) return null;
  for (let i = 0; i < 4; i++) words[i] = ((GROUPS[2 * i]! << 16) | GROUPS[2 * i + 1]!) >>> 0;
  return 6;
}

/** Whether IPv6 `words` hold an IPv4-mapped address (`::ffff:0:0/96`); its IPv4 is `words[3]`. */
export function isV4Mapped(words: Uint32Array): boolean {
  return words[0] === 0 && words[1] === 0 && words[2] === 0xffff;
}

/** Canonical text of an address: dotted IPv4, or RFC 5952 IPv6 (lower case, longest `::`). */
export function formatIpAddress(family: IpFamily, words: ArrayLike<number>): string {
  if (family === 4) {
    const w = words[0]! >>> 0;
    return `${w >>> 24}.${(w >>> 16) & 0xff}.${(w >>> 8) & 0xff}.${w & 0xff}`;
  }
  const groups: number[] = [];
  for (let i = 0; i < 4; i++) groups.push(words[i]! >>> 16, words[i]! & 0xffff);
  // The longest run of two or more zero groups (the first when tied) becomes "::".
  let best = -1, bestLen = 1;
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = (gs: number[]) => gs.map((g) => g.toString(16)).join(":");
  if (best < 0) return hex(groups);
  return `${hex(groups.slice(0, best))}::${hex(groups.slice(best + bestLen))}`;
}

/** The IPv4 address spelled from `start` to the end of `text`, or -1. */
function parseV4(text: string, start: number): number {
  const end = text.length;
  let value = 0;
  let i = start;
  for (let octet = 0; octet < 4; octet++) {
    if (octet > 0) {
      if (i >= end || text.charCodeAt(i) !== 0x2e) return -1; // "."
      i++;
    }
    const first = i;
    let n = 0;
    for (; i < end && i - first < 4; i++) {
      const d = text.charCodeAt(i) - 0x30;
      if (d < 0 || d > 9) break;
      n = n * 10 + d;
    }
    const digits = i - first;
    if (digits === 0 || digits > 3 || n > 255) return -1;
    if (digits > 1 && text.charCodeAt(first) === 0x30) return -1; // leading zero
    value = value * 256 + n;
  }
  return i === end ? value : -1;
}

/** Fills {@link GROUPS} from IPv6 `text`; false when it is not IPv6. */
function parseV6Groups(text: string): boolean {
  const end = text.length;
  let count = 0;
  let gap = -1;
  let i = 0;
  if (end >= 2 && text.charCodeAt(0) === 0x3a) {
    if (text.charCodeAt(1) !== 0x3a) return false; // a single leading ":"
    gap = 0;
    i = 2;
  }
  while (i < end) {
    const first = i;
    let value = 0;
    for (; i < end; i++) {
      const h = hexValue(text.charCodeAt(i));
      if (h < 0) break;
      value = value * 16 + h;
    }
    if (i < end && text.charCodeAt(i) === 0x2e) return v4Tail(text, first, count, gap);
    if (i === first || i - first > 4 || count === 8) return false;
    GROUPS[count++] = value;
    if (i === end) break;
    if (text.charCodeAt(i) !== 0x3a) return false;
    i++;
    if (i < end && text.charCodeAt(i) === 0x3a) {
      if (gap >= 0) return false; // a second "::"
      gap = count;
      i++;
    } else if (i === end) {
      return false; // a single trailing ":"
    }
  }
  return expand(count, gap);
}

/** A dotted IPv4 tail starting at `first`, after `count` groups: two more groups. */
function v4Tail(text: string, first: number, count: number, gap: number): boolean {
  const v4 = parseV4(text, first);
  if (v4 < 0 || count > 6) return false;
  GROUPS[count] = v4 >>> 16;
  GROUPS[count + 1] = v4 & 0xffff;
  return expand(count + 2, gap);
}

/** Moves the groups after the `::` to the end and zero-fills the gap; checks the count. */
function expand(count: number, gap: number): boolean {
  if (gap < 0) return count === 8;
  // "::" stands for at least one zero group.
  if (count > 7) return false;
  const tail = count - gap;
  for (let k = 1; k <= tail; k++) GROUPS[8 - k] = GROUPS[count - k]!;
  for (let k = gap; k < 8 - tail; k++) GROUPS[k] = 0;
  return true;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const lower = c | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}
