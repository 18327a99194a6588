/**
 * The config's fingerprint (`Config.sha256`, shown as `gatehouse_config_info{sha256}`): the
 * sha256 of a canonical rendering of the *parsed* config with every secret replaced by a fixed
 * marker, so that two configs that differ only in a secret show the same value.
 *
 * Why the parsed config rather than the file text with secret values blanked: the text carries
 * more than the values the schema reads — comments (an old secret left in one), quoting,
 * escapes and block scalars (`"\x73…"`, `|`), merge keys, and JSON's case-insensitive keys
 * (`"HMAC_Secret"`). Blanking must find every spelling; the parsed config has exactly one place
 * per secret. As a side effect, edits that change nothing (comments,
 * key order, formatting, a default written out) keep the fingerprint.
 *
 * @module
 */
import { isSecretKey, REDACTED } from "./secrets.ts";
import type { Config } from "./types.ts";

/** sha256 (lower-case hex) of {@linkcode canonicalConfig}. */
export async function configFingerprint(config: Config): Promise<string> {
  const bytes = new TextEncoder().encode(canonicalConfig(config));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The config as canonical JSON: object and map keys sorted, list order kept, `source` and
 * `sha256` left out (where it came from is not what it says), and the value of every key that
 * names a secret ({@linkcode isSecretKey}) replaced by {@linkcode REDACTED} — unless it is
 * unset, which stays visible.
 *
 * @throws {TypeError} for a value that has no canonical form (a function, a class instance other
 * than Map, Set and Uint8Array): a config type that grows one must be taught here first.
 */
export function canonicalConfig(config: Config): string {
  const { source: _source, sha256: _sha256, ...meaning } = config;
  return render(meaning, "");
}

function render(value: unknown, path: string): string {
  if (value === null || typeof value === "boolean" || typeof value === "string") {
    return JSON.stringify(value);
  }
  if (typeof value === "number") {
    // JSON has no Infinity or NaN; spelled out so they differ from null and from each other.
    return Number.isFinite(value) ? JSON.stringify(value) : JSON.stringify(String(value));
  }
  if (Array.isArray(value)) return `[${value.map((v, i) => render(v, `${path}[${i}]`)).join(",")}]`;
  if (value instanceof Uint8Array) return JSON.stringify(`hex:${value.toHex()}`);
  if (value instanceof Map) {
    return renderEntries([...value].map(([k, v]) => [String(k), v]), path);
  }
  if (value instanceof Set) {
    return `[${[...value].map((v) => render(v, `${path}[]`)).sort().join(",")}]`;
  }
  const proto = typeof value === "object" ? Object.getPrototypeOf(value) : undefined;
  if (proto === Object.prototype || proto === null) {
    return renderEntries(Object.entries(value as object), path);
  }
  throw new TypeError(`config fingerprint: no canonical form for ${path || "the config"}`);
}

function renderEntries(entries: ReadonlyArray<readonly [string, unknown]>, path: string): string {
  const fields = entries
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => {
      const secret = isSecretKey(k) && v !== null;
      return `${JSON.stringify(k)}:${
        secret ? JSON.stringify(REDACTED) : render(v, `${path}.${k}`)
      }`;
    });
  return `{${fields.join(",")}}`;
}
