/**
 * The `maintenance` section, and the one validator the admin API's `PUT /api/v1/maintenance`
 * uses too ({@link parseMaintenance}), so a value the API accepts is exactly one the config file
 * could hold, and both name the field at fault the same way (`maintenance.bypass[2]` in the
 * file, `bypass[2]` in a request body).
 *
 * @module
 */
import { isUuidText, MAX_USERNAME_BYTES } from "../protocol/mod.ts";
import { parseCidr } from "./cidr.ts";
import { ConfigErrors } from "./errors.ts";
import { childPath, indexPath, type Obj, Reader } from "./fields.ts";
import { localeKey } from "./locale.ts";
import type { Node } from "./nodes.ts";
import type { BypassEntry, MaintenanceConfig } from "./types.ts";

/** The message players get when none is configured. */
export const DEFAULT_MAINTENANCE_MESSAGE =
  "The server is under maintenance. Please try again later.";

/** Maintenance off, the default message, no translations, nobody bypassing. */
export const DEFAULT_MAINTENANCE: MaintenanceConfig = Object.freeze({
  enabled: false,
  message: DEFAULT_MAINTENANCE_MESSAGE,
  messageLocales: Object.freeze({}),
  bypass: Object.freeze([]),
});

/** Longest message (characters); a Disconnect reason is meant to be read on one screen. */
export const MAX_MAINTENANCE_MESSAGE = 1024;
/** Most message translations. */
export const MAX_MAINTENANCE_LOCALES = 64;
/** Most bypass entries. */
export const MAX_BYPASS_ENTRIES = 1000;
/** Longest bypass entry (characters): an IPv6 CIDR is at most 43. */
export const MAX_BYPASS_ENTRY = 64;

const KEYS = ["enabled", "message", "message_locales", "bypass"];
const UTF8 = new TextEncoder();

/**
 * Reads a `maintenance` mapping at `path` (`""` for a request body). Keys left out take their
 * value from `base` (the defaults for the config file; the current setting for an API change).
 */
export function readMaintenance(
  r: Reader,
  node: Node | undefined,
  path: string,
  base: MaintenanceConfig = DEFAULT_MAINTENANCE,
): MaintenanceConfig {
  if (path === "" && (node === undefined || node.kind !== "map")) {
    if (node !== undefined) r.typeError(node, path, "a mapping");
    return base;
  }
  const obj = r.object(node, path, KEYS);
  if (obj === undefined) return base;
  const enabled = r.bool(obj.get("enabled"), obj.at("enabled")) ?? base.enabled;
  const message = readMessage(r, obj.get("message"), obj.at("message")) ?? base.message;
  const locales = readLocales(r, obj) ?? base.messageLocales;
  const bypass = readBypass(r, obj.get("bypass"), obj.at("bypass")) ?? base.bypass;
  return { enabled, message, messageLocales: locales, bypass };
}

/**
 * Validates a maintenance value given as JSON (the body of `PUT /api/v1/maintenance`, a stored
 * runtime state) with {@link readMaintenance}: keys left out keep `base`'s value. The result is
 * frozen.
 *
 * @throws {ConfigErrors} every problem, each `path` naming the field (`bypass[2]`).
 */
export function parseMaintenance(
  value: unknown,
  base: MaintenanceConfig = DEFAULT_MAINTENANCE,
): MaintenanceConfig {
  const r = new Reader("", "json");
  const config = readMaintenance(r, nodeOf(value), "", base);
  if (r.errors.length > 0) throw new ConfigErrors(r.errors);
  return Object.freeze({
    ...config,
    messageLocales: Object.freeze({ ...config.messageLocales }),
    bypass: Object.freeze([...config.bypass]),
  });
}

/** The JSON form of a maintenance value, as the API shows it and {@link parseMaintenance} reads. */
export function maintenanceJson(m: MaintenanceConfig): {
  enabled: boolean;
  message: string;
  message_locales: Record<string, string>;
  bypass: string[];
} {
  return {
    enabled: m.enabled,
    message: m.message,
    message_locales: { ...m.messageLocales },
    bypass: m.bypass.map((b) => b.text),
  };
}

function readMessage(r: Reader, node: Node | undefined, path: string): string | undefined {
  const text = r.string(node, path);
  if (text === undefined || node === undefined) return undefined;
  if (text.trim() === "") return r.report("invalid", path, node.position, "must not be empty");
  if (text.length > MAX_MAINTENANCE_MESSAGE) {
    const detail = `must be at most ${MAX_MAINTENANCE_MESSAGE} characters, got ${text.length}`;
    return r.report("invalid", path, node.position, detail);
  }
  const bad = UNSHOWABLE.exec(text);
  if (bad) {
    const code = bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");
    const detail = `must not contain U+${code} (character ${bad.index + 1}): ` +
      "only line breaks may be control characters, and no direction overrides";
    return r.report("invalid", path, node.position, detail);
  }
  return text;
}

/**
 * What a maintenance message may not hold: players' clients show it, and control characters
 * (line breaks aside) or bidirectional overrides could garble or disguise the text. The message
 * can come from the admin API, so this is checked, not trusted.
 */
// deno-lint-ignore no-control-regex
const UNSHOWABLE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u;

function readLocales(r: Reader, obj: Obj): Readonly<Record<string, string>> | undefined {
  const path = obj.at("message_locales");
  const entries = r.entries(obj.get("message_locales"), path);
  if (entries === undefined) return undefined;
  if (entries.length > MAX_MAINTENANCE_LOCALES) {
    const detail = `must have at most ${MAX_MAINTENANCE_LOCALES} locales, got ${entries.length}`;
    return r.report("invalid", path, obj.get("message_locales")?.position ?? null, detail);
  }
  const locales: Record<string, string> = {};
  for (const entry of entries) {
    const at = childPath(path, entry.key);
    const key = localeKey(entry.key);
    if (key === "" || key.length > 35 || !/^[a-z0-9-]+$/.test(key)) {
      r.report("invalid", at, entry.keyPosition, "not a locale key such as de or pt-br");
    } else if (Object.hasOwn(locales, key)) {
      r.report("invalid", at, entry.keyPosition, `locale "${key}" is configured twice`);
    } else {
      const text = readMessage(r, entry.value, at);
      if (text !== undefined) locales[key] = text;
    }
  }
  return locales;
}

function readBypass(
  r: Reader,
  node: Node | undefined,
  path: string,
): readonly BypassEntry[] | undefined {
  const items = r.list(node, path);
  if (items === undefined || node === undefined) return undefined;
  if (items.length > MAX_BYPASS_ENTRIES) {
    const detail = `must have at most ${MAX_BYPASS_ENTRIES} entries, got ${items.length}`;
    return r.report("invalid", path, node.position, detail);
  }
  const out: BypassEntry[] = [];
  items.forEach((item, i) => {
    const at = indexPath(path, i);
    const raw = item.kind === "null"
      ? r.typeError(item, at, "a username, UUID or IP/CIDR")
      : r.string(item, at);
    if (raw === undefined) return;
    const entry = classifyBypass(raw.trim());
    if (typeof entry === "string") r.report("invalid", at, item.position, entry);
    else out.push(entry);
  });
  return out;
}

/**
 * One bypass entry: a UUID (`8-4-4-4-12` hex, kept lower case), an IP address or CIDR (kept in
 * canonical form), or else a username; or why it is none of them.
 */
export function classifyBypass(text: string): BypassEntry | string {
  if (text === "") return "must not be empty";
  if (text.length > MAX_BYPASS_ENTRY) {
    return `must be at most ${MAX_BYPASS_ENTRY} characters, got ${text.length}`;
  }
  if (isUuidText(text)) return { kind: "uuid", text: text.toLowerCase() };
  // Dotted digits, a colon or a slash: meant as an address (no username has them).
  if (/^[0-9]+(?:\.[0-9]*)+$/.test(text) || text.includes(":") || text.includes("/")) {
    const parsed = parseCidr(text);
    if (!parsed.ok) {
      return `not an IP address or CIDR: ${parsed.problem}` +
        (parsed.hint === null ? "" : ` (${parsed.hint})`);
    }
    return { kind: "ip", text: parsed.range.text, range: parsed.range };
  }
  if (/[\s\p{Cc}]/u.test(text)) return "a username has no spaces or control characters";
  if (UTF8.encode(text).length > MAX_USERNAME_BYTES) {
    return `a username is at most ${MAX_USERNAME_BYTES} bytes`;
  }
  return { kind: "username", text };
}

/** A JSON value as positioned nodes (positions are meaningless: API errors name fields). */
function nodeOf(value: unknown, depth = 0): Node {
  const position = { line: 1, column: 1 };
  if (value === null || value === undefined || depth > 8) return { kind: "null", position };
  if (Array.isArray(value)) {
    return { kind: "seq", position, items: value.map((v) => nodeOf(v, depth + 1)) };
  }
  if (typeof value === "object") {
    const entries = Object.entries(value).map(([key, v]) => ({
      key,
      keyPosition: position,
      value: nodeOf(v, depth + 1),
    }));
    return { kind: "map", position, entries };
  }
  return { kind: "scalar", position, text: String(value), quoted: typeof value === "string" };
}
