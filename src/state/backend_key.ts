import { parseListenAddress } from "../config/mod.ts";
import { StateError } from "./errors.ts";

/** Longest `host:port` accepted: a 253-character host name, `:`, five digits. */
const MAX_KEY = 259;

/**
 * Validates a backend named `host:port` (the spelling decisions and `GET backends` use: IPv6
 * hosts without brackets, `::1:5520`; `[::1]:5520` is accepted too) and returns that spelling.
 * `field` names the value in the error (`backend`).
 *
 * @throws {StateError} `invalid`, naming `field` and what is wrong.
 */
export function parseBackendKey(text: string, field = "backend"): string {
  const fail = (problem: string) => new StateError("invalid", `${field}: ${problem}`, field);
  if (typeof text !== "string") throw fail('expected "host:port" text');
  const trimmed = text.trim();
  if (trimmed === "" || trimmed.length > MAX_KEY) {
    throw fail(`expected "host:port" of at most ${MAX_KEY} characters`);
  }
  const colon = trimmed.lastIndexOf(":");
  const host = trimmed.slice(0, Math.max(colon, 0));
  // An IPv6 host as `GET backends` spells it (no brackets) is bracketed to be parsed.
  const bracketed = host.includes(":") && !host.startsWith("[")
    ? `[${host}]${trimmed.slice(colon)}`
    : trimmed;
  const parsed = parseListenAddress(bracketed);
  if (!parsed.ok) throw fail(parsed.problem);
  if (host === "") throw fail("the host is missing");
  if (parsed.address.port === 0) throw fail("the port must be from 1 to 65535");
  return `${parsed.address.hostname}:${parsed.address.port}`;
}
