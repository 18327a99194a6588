/**
 * Host names as the Go router reads them: the canonical form of an SNI or a route's hostname
 * pattern ({@link canonicalHost}), and hostname patterns with the semantics of Go's
 * `path.Match`, which the Go router uses: `*` matches any run of characters except `/`, `?` one
 * character except `/`, `[...]` a class (ranges `a-z`, `^` negation, may match `/`), `\`
 * escapes the next character.
 *
 * Why `config/` owns it: a hostname pattern is a config value type, like the durations, CIDRs
 * and IP addresses this folder already parses with Go's semantics for the runtime to reuse. The
 * loader validates and normalises each pattern once; routing compiles the same patterns with the
 * same parser and canonicalises each SNI with the same function, so what the loader accepts is
 * exactly what routing matches. Routing already depends on `config/`; kept in `routing/`, the
 * loader's use of it made `config/` and `routing/` import each other.
 *
 * Not a RegExp on purpose: `path.Match` commits each star-separated chunk to its leftmost match
 * instead of backtracking, so a backtracking engine would accept names it rejects (`*a[^z]*`
 * against `aa/`). The two agree on every name without `/`, which includes every DNS name, but
 * this matcher follows Go there too.
 *
 * One known difference: Go's star skips bytes, so with a non-ASCII name `?` can match part of
 * a UTF-8 sequence (`*??` matches the one character `€`); here characters are whole code
 * points. TLS SNI is an ASCII DNS name (RFC 6066 §3), so no routed name reaches that case.
 */

import { goTrimSpace } from "./go_trim_space.ts";

/**
 * The Go router's canonical host, for SNIs and hostname patterns alike: trim spaces (Go's
 * `strings.TrimSpace`), drop one trailing dot, lower-case. `null` (no SNI) is `""`.
 */
export function canonicalHost(sni: string | null): string {
  if (sni === null) return "";
  const trimmed = goTrimSpace(sni);
  const host = trimmed.endsWith(".") ? trimmed.slice(0, -1) : trimmed;
  return host.toLowerCase();
}

/** Matches one already-canonical host name (lower case, no trailing dot). */
export type HostMatcher = (host: string) => boolean;

type Atom =
  | { readonly kind: "literal"; readonly codePoint: number }
  | { readonly kind: "any" }
  | { readonly kind: "class"; readonly negated: boolean; readonly ranges: readonly number[] };

/** A run of atoms, optionally preceded by a star; a trailing star is a chunk with no atoms. */
interface Chunk {
  readonly star: boolean;
  readonly atoms: readonly Atom[];
}

const SLASH = 0x2f;

/**
 * Checks a hostname pattern's syntax. Returns the error text for a malformed pattern (where
 * `path.Match` reports `ErrBadPattern`), or `null` when it is well-formed.
 */
export function validatePattern(pattern: string): string | null {
  const parsed = parsePattern(pattern);
  return typeof parsed === "string" ? parsed : null;
}

/**
 * Compiles one hostname pattern, already normalised (lower case, trailing dot removed), into a
 * matcher. Like the Go router, an empty pattern or host never matches, equal strings always
 * match, and a malformed pattern matches nothing else.
 */
export function compileHostPattern(pattern: string): HostMatcher {
  if (pattern === "") return () => false;
  const chunks = parsePattern(pattern);
  if (typeof chunks === "string") return (host) => host === pattern;
  return (host) => host !== "" && (host === pattern || matchChunks(chunks, host));
}

function parsePattern(pattern: string): readonly Chunk[] | string {
  const chunks: Chunk[] = [];
  let star = false;
  let atoms: Atom[] = [];
  let i = 0;
  while (i < pattern.length) {
    const c = pattern.codePointAt(i) ?? 0;
    if (c === 0x2a /* * */) {
      if (atoms.length > 0) chunks.push({ star, atoms });
      atoms = [];
      star = true;
      i++;
    } else if (c === 0x3f /* ? */) {
      atoms.push({ kind: "any" });
      i++;
    } else if (c === 0x5b /* [ */) {
      const parsed = parseClass(pattern, i);
      if (typeof parsed === "string") return parsed;
      atoms.push(parsed.atom);
      i = parsed.next;
    } else if (c === 0x5c /* \ */) {
      const escaped = pattern.codePointAt(i + 1);
      if (escaped === undefined) return `pattern ends with an unfinished "\\" escape`;
      atoms.push({ kind: "literal", codePoint: escaped });
      i += 1 + width(escaped);
    } else {
      atoms.push({ kind: "literal", codePoint: c });
      i += width(c);
    }
  }
  if (star || atoms.length > 0) chunks.push({ star, atoms });
  return chunks;
}

/** Parses `[...]` starting at `open`; every rule here is one `path.Match` enforces. */
function parseClass(
  pattern: string,
  open: number,
): { readonly atom: Atom; readonly next: number } | string {
  const where = `character class "[" at offset ${open}`;
  let i = open + 1;
  const negated = pattern[i] === "^";
  if (negated) i++;
  const ranges: number[] = [];
  for (;;) {
    if (pattern[i] === "]" && ranges.length > 0) {
      return { atom: { kind: "class", negated, ranges }, next: i + 1 };
    }
    if (pattern[i] === "]") return `${where} is empty`;
    if (pattern[i] === "-") return `${where} has a "-" with no range start at offset ${i}`;
    const lo = classChar(pattern, i);
    if (lo === null) return `${where} is not closed`;
    i = lo.next;
    let hi = lo.codePoint;
    if (pattern[i] === "-") {
      i++;
      if (pattern[i] === "]" || pattern[i] === "-") {
        return `${where} has a range with no end at offset ${i}`;
      }
      const end = classChar(pattern, i);
      if (end === null) return `${where} is not closed`;
      hi = end.codePoint;
      i = end.next;
    }
    ranges.push(lo.codePoint, hi);
  }
}

/** One possibly escaped class character; `null` when the pattern ends inside the class. */
function classChar(
  pattern: string,
  at: number,
): { readonly codePoint: number; readonly next: number } | null {
  const i = pattern[at] === "\\" ? at + 1 : at;
  const codePoint = pattern.codePointAt(i);
  if (codePoint === undefined) return null;
  const next = i + width(codePoint);
  // The class must go on after every character: at least its closing "]" is still to come.
  return next < pattern.length ? { codePoint, next } : null;
}

function width(codePoint: number): number {
  return codePoint > 0xffff ? 2 : 1;
}

/** `path.Match`'s loop: each chunk takes its leftmost match; a star may skip non-`/` only. */
function matchChunks(chunks: readonly Chunk[], name: string): boolean {
  let pos = 0;
  for (let k = 0; k < chunks.length; k++) {
    const chunk = chunks[k]!;
    if (chunk.star && chunk.atoms.length === 0) return name.indexOf("/", pos) < 0;
    const last = k === chunks.length - 1;
    const end = matchAtoms(chunk.atoms, name, pos);
    if (end >= 0 && (!last || end === name.length)) {
      pos = end;
      continue;
    }
    if (!chunk.star) return false;
    const next = matchAfterSkip(chunk.atoms, name, pos, last);
    if (next < 0) return false;
    pos = next;
  }
  return pos === name.length;
}

/** Retries a starred chunk after skipping 1, 2, … characters (never a `/`). */
function matchAfterSkip(atoms: readonly Atom[], name: string, from: number, last: boolean) {
  let i = from;
  while (i < name.length && name.charCodeAt(i) !== SLASH) {
    i += width(name.codePointAt(i) ?? 0);
    const end = matchAtoms(atoms, name, i);
    if (end >= 0 && (!last || end === name.length)) return end;
  }
  return -1;
}

/** Matches `atoms` at `pos`; returns the position after them, or -1. */
function matchAtoms(atoms: readonly Atom[], name: string, pos: number): number {
  let i = pos;
  for (const atom of atoms) {
    const c = name.codePointAt(i);
    if (c === undefined) return -1;
    if (atom.kind === "literal") {
      if (c !== atom.codePoint) return -1;
    } else if (atom.kind === "any") {
      if (c === SLASH) return -1;
    } else if (inClass(atom.ranges, c) === atom.negated) {
      return -1;
    }
    i += width(c);
  }
  return i;
}

function inClass(ranges: readonly number[], c: number): boolean {
  for (let r = 0; r < ranges.length; r += 2) {
    if (ranges[r]! <= c && c <= ranges[r + 1]!) return true;
  }
  return false;
}
