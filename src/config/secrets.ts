/**
 * Which config values are secrets. A secret is never echoed in an error message and never
 * enters the config's fingerprint (`fingerprint.ts`): whoever reads either — a log, /metrics —
 * could otherwise test guesses offline.
 *
 * @module
 */

// The schema's secret (`referral.hmac_secret`, typed `hmacSecret`) and, in free-form maps such
// as `wasm.config` or backend `meta`, any key that names a credential.
// (`auth` also covers `authorization`; an over-eager match only hides a value that was safe to show.)
const SECRET_KEY =
  /secret|token|passw|passphrase|pwd|credential|api[-_]?key|private[-_]?key|signing[-_]?key|bearer|auth|hmac/i;

/** Written instead of a secret's value. */
export const REDACTED = "<redacted>";

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
