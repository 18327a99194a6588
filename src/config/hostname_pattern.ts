/**
 * Why a hostname pattern is malformed for Go's `path.Match`, or `null` when it is well formed.
 * Hyrouter treats a malformed pattern as "never matches"; here it is a load error. Rules, as in
 * Go: `\` escapes the next character and must not end the pattern; `[` opens a class (optional
 * `^`, then at least one character or `lo-hi` range, `\` escapes allowed) that must be closed by
 * `]`; an unescaped `-` or `]` cannot start a range.
 */
export function hostnamePatternProblem(pattern: string): string | null {
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i];
    if (c === "\\") {
      if (i + 1 >= pattern.length) return "a trailing \\ escapes nothing";
      i += 2;
    } else if (c === "[") {
      const end = classEnd(pattern, i + 1);
      if (typeof end === "string") return end;
      i = end;
    } else {
      i++;
    }
  }
  return null;
}

function classEnd(pattern: string, start: number): number | string {
  let i = pattern[start] === "^" ? start + 1 : start;
  for (let ranges = 0;; ranges++) {
    if (pattern[i] === "]" && ranges > 0) return i + 1;
    const lo = classChar(pattern, i);
    if (typeof lo === "string") return lo;
    i = lo;
    if (pattern[i] === "-") {
      const hi = classChar(pattern, i + 1);
      if (typeof hi === "string") return hi;
      i = hi;
    }
  }
}

/** Index after one (possibly escaped) class character, which must not end the pattern. */
function classChar(pattern: string, at: number): number | string {
  const unclosed = "unclosed [ character class";
  const c = pattern[at];
  if (c === undefined) return unclosed;
  if (c === "-" || c === "]") return `unexpected "${c}" in [ character class`;
  let i = c === "\\" ? at + 1 : at;
  const code = pattern.codePointAt(i);
  if (code === undefined) return unclosed;
  i += code > 0xffff ? 2 : 1;
  return i >= pattern.length ? unclosed : i;
}
