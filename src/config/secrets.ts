/**
 * Which config values are secrets. A secret is never echoed in an error message and never
 * enters the config's fingerprint (`fingerprint.ts`): whoever reads either — a log, /metrics —
 * could otherwise test guesses offline.
 *
 * @module
 */
import { ConfigError } from "./errors.ts";
import type { Node } from "./nodes.ts";

// The schema's secret (`referral.hmac_secret`, typed `hmacSecret`) and, in free-form maps such
// as `wasm.config` or backend `meta`, any key that names a credential.
// (`auth` also covers `authorization`; an over-eager match only hides a value that was safe to show.)
const SECRET_KEY =
  /secret|token|passw|passphrase|pwd|credential|api[-_]?key|private[-_]?key|signing[-_]?key|bearer|auth|hmac/i;

/** Written instead of a secret's value. */
export const REDACTED = "<redacted>";

/** Secret texts shorter than this are not searched for in messages (they would match anywhere). */
const MIN_SCRUBBED_LENGTH = 4;

/** Whether a mapping key (config spelling or typed field name) holds a secret. */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/**
 * Whether the value at a config path (`referral.hmac_secret`,
 * `plugins[0].wasm.config.auth.api_key`) is a secret or lies inside one: any of its keys names
 * a secret.
 */
export function isSecretPath(path: string): boolean {
  return SECRET_KEY.test(path);
}

/**
 * The texts of every scalar at a secret path in a parsed config tree. The readers never echo a
 * value at a secret path; this list lets the loader scrub the rest — a YAML alias (`*s`) repeats
 * an anchored secret at a path that is not secret, where a reader's error would show it.
 */
export function secretTexts(root: Node | null): string[] {
  const found: string[] = [];
  const walk = (node: Node, path: string): void => {
    if (node.kind === "map") {
      for (const e of node.entries) walk(e.value, path === "" ? e.key : `${path}.${e.key}`);
    } else if (node.kind === "seq") {
      node.items.forEach((item, i) => walk(item, `${path}[${i}]`));
    } else if (node.kind === "scalar" && isSecretPath(path)) {
      if (node.text.length >= MIN_SCRUBBED_LENGTH) found.push(node.text);
    }
  };
  if (root !== null) walk(root, "");
  return found;
}

/** `error` with every occurrence of `secrets` in its detail and hint replaced by {@link REDACTED}. */
export function scrubSecrets(error: ConfigError, secrets: readonly string[]): ConfigError {
  const scrub = (text: string) => secrets.reduce((t, s) => t.replaceAll(s, REDACTED), text);
  const detail = scrub(error.detail);
  const hint = error.hint === null ? null : scrub(error.hint);
  if (detail === error.detail && hint === error.hint) return error;
  const position = error.line === null ? null : { line: error.line, column: error.column ?? 1 };
  return new ConfigError({
    code: error.code,
    source: error.source,
    path: error.path,
    position,
    detail,
    hint,
  });
}
