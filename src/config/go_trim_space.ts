/**
 * Go's `strings.TrimSpace`. The Go router trims host names, metadata keys and values and client
 * identity with it; the config loader (hostname patterns) and routing (SNI, metadata) both read
 * text that way, so it lives here, in the folder both depend on.
 */

/** Go's `unicode.IsSpace`; differs from JS `trim()` (Go trims U+0085, keeps U+FEFF). */
function isGoSpace(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d);
  if (c < 0x85) return false;
  return c === 0x85 || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000;
}

/** `strings.TrimSpace`. */
export function goTrimSpace(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && isGoSpace(s.charCodeAt(start))) start++;
  while (end > start && isGoSpace(s.charCodeAt(end - 1))) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}
