/**
 * The valid name closest to a misspelt one, as a `did you mean "…"?` hint, or `null` when none
 * is close. Comparison ignores case and treats `-` as `_`; "close" is an optimal-string-alignment
 * distance (Levenshtein plus adjacent transpositions) of at most 2 that also changes at most
 * half of the longer name, so `op` never suggests `key`.
 */
export function didYouMean(input: string, candidates: readonly string[]): string | null {
  const best = closest(input, candidates);
  return best === null ? null : `did you mean "${best}"?`;
}

/** The candidate {@link didYouMean} would suggest, or `null`. */
export function closest(input: string, candidates: readonly string[]): string | null {
  const wanted = fold(input);
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = distance(wanted, fold(candidate));
    const close = d <= 2 && d * 2 <= Math.max(wanted.length, candidate.length);
    if (close && d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function fold(s: string): string {
  return s.trim().toLowerCase().replaceAll("-", "_");
}

function distance(a: string, b: string): number {
  // rows[i][j] = distance between a[0..i) and b[0..j).
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row: number[] = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min((rows[i - 1]?.[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1);
      d = Math.min(d, (rows[i - 1]?.[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, (rows[i - 2]?.[j - 2] ?? 0) + 1);
      }
      row.push(d);
    }
    rows.push(row);
  }
  return rows[a.length]?.[b.length] ?? 0;
}
