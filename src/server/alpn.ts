/** The highest `hytale/<n>` advertised for the `hytale/*` wildcard. */
export const HYTALE_ALPN_MAX = 16;

/**
 * Expands `hytale/*` into `hytale/16 … hytale/1` at its position and removes duplicates.
 * rustls picks the first of the *server's* list that the client offers, so descending order
 * gives "highest offered wins" (docs/protocol.md §1 "Transport").
 */
export function expandAlpn(configured: readonly string[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const add = (p: string) => {
    if (!seen.has(p)) {
      seen.add(p);
      out.push(p);
    }
  };
  for (const entry of configured) {
    if (entry === "hytale/*") {
      for (let n = HYTALE_ALPN_MAX; n >= 1; n--) add(`hytale/${n}`);
    } else {
      add(entry);
    }
  }
  return out;
}
