import type { Backend } from "../config/mod.ts";
import type { ConnectEvent } from "../protocol/mod.ts";
import {
  asBool,
  asInt,
  asString,
  badResponse,
  type Check,
  isObject,
  isPort,
  listOf,
  optionalField,
  Problem,
} from "./shape.ts";

/** What the chain carries from plugin to plugin (docs/plugins.md §2 "Chain semantics"). */
export interface ChainState {
  /** The pool's own strategy name, as the Go router reports it; `""` without a decision. */
  readonly strategy: string;
  /** The decision's candidates, or a plugin's replacement list. */
  readonly candidates: readonly Backend[];
  /** -1 when nothing is selected. */
  readonly selectedIndex: number;
  /** `null` when no backend is chosen. */
  readonly backend: Backend | null;
  /** Plugin-provided referral content; empty when none. */
  readonly referralContent: Uint8Array;
}

/** A backend as a plugin wrote it: host and port, weight and meta optional. */
export interface ResponseBackend {
  /** `""` when the plugin left it out (Go's zero value). */
  readonly host: string;
  /** 0 when the plugin left it out. */
  readonly port: number;
  /** 0 when the plugin left it out. */
  readonly weight: number;
  /** `null` when the plugin left it out. */
  readonly meta: Readonly<Record<string, string>> | null;
}

/** A decoded ConnectResponse; absent fields are `null`. */
export interface PluginResponse {
  /** `deny`; `false` when absent. */
  readonly deny: boolean;
  /** `deny_reason`, the text the player sees; `""` when absent. */
  readonly denyReason: string;
  /** `candidates`: replaces the chain's list when non-empty. */
  readonly candidates: readonly ResponseBackend[] | null;
  /** `selected_index` into the (possibly replaced) candidates. */
  readonly selectedIndex: number | null;
  /** `backend`: the plugin's explicit choice. */
  readonly backend: ResponseBackend | null;
  /** `referral_content`, else the older `referral_data`, base64-decoded. */
  readonly referralContent: Uint8Array | null;
}

const EMPTY_BACKEND = { host: "", port: 0, weight: 0, meta: null };
const utf8 = new TextEncoder();
// Like Go's encoding/json, invalid UTF-8 is replaced rather than refused.
const utf8Decoder = new TextDecoder("utf-8");

/**
 * The ConnectRequest JSON document, in the Go router's exact shape: optional event fields
 * omitted when empty/zero/false, `candidates: null` when there are none, `selected_index: -1`
 * and an all-zero backend when nothing is selected, `meta: null` without metadata,
 * `referral_content` (base64) omitted when empty. The identity token is never included.
 */
export function encodeRequest(sni: string, event: ConnectEvent, state: ChainState): Uint8Array {
  const request = {
    event: {
      sni,
      protocol_hash: event.protocolHash || undefined,
      client_type: event.clientType || undefined,
      uuid: event.uuid || undefined,
      username: event.username || undefined,
      language: event.language || undefined,
      identity_token_present: event.identityTokenPresent || undefined,
    },
    strategy: state.strategy,
    candidates: state.candidates.length > 0 ? state.candidates.map(backendJson) : null,
    selected_index: state.selectedIndex,
    backend: state.backend ? backendJson(state.backend) : EMPTY_BACKEND,
    referral_content: state.referralContent.length > 0
      ? state.referralContent.toBase64()
      : undefined,
  };
  return utf8.encode(JSON.stringify(request));
}

function backendJson(b: Backend) {
  return { host: b.host, port: b.port, weight: b.weight, meta: b.meta };
}

/**
 * Largest ConnectResponse decoded, bytes (8 MiB): room for the longest deny reason a Disconnect
 * can carry (4,096,000 bytes, docs/protocol.md §5) however it is escaped, and no more.
 */
export const MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

/**
 * Most objects, arrays and elements a ConnectResponse may hold (counted as `{`, `[` and `,`
 * outside strings, before parsing). Parsing and checking run on the router's thread, and cost
 * goes with the number of values, not bytes: 4 MB of `{},` took ~0.5 s, a 16 MiB list of backends
 * ~1 s; 50,000 (some 16,000 candidates) parse in a few ms. Counting 4 MB takes ~4 ms.
 */
export const MAX_RESPONSE_VALUES = 50_000;

/**
 * Parses a ConnectResponse. Unknown fields are ignored; `referral_content` is preferred over
 * the older `referral_data`. Anything that is not the documented shape, or over the bounds
 * above, is a `bad_response` plugin error — never a crash.
 */
export function decodeResponse(bytes: Uint8Array, plugin: string): PluginResponse {
  if (bytes.length > MAX_RESPONSE_BYTES) {
    throw bad(plugin, `response of ${bytes.length} bytes is over ${MAX_RESPONSE_BYTES}`);
  }
  if (jsonValues(bytes, MAX_RESPONSE_VALUES) > MAX_RESPONSE_VALUES) {
    throw bad(plugin, `response holds over ${MAX_RESPONSE_VALUES} JSON values`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(utf8Decoder.decode(bytes));
  } catch {
    throw bad(plugin, `response is not JSON (${bytes.length} bytes)`);
  }
  if (!isObject(doc)) throw bad(plugin, "response is not a JSON object");
  return {
    deny: optional(doc, "deny", plugin, asBool) ?? false,
    denyReason: optional(doc, "deny_reason", plugin, asString) ?? "",
    candidates: optional(doc, "candidates", plugin, asBackendList),
    selectedIndex: optional(doc, "selected_index", plugin, asInt),
    backend: optional(doc, "backend", plugin, asBackend),
    referralContent: optional(doc, "referral_content", plugin, asBase64) ??
      optional(doc, "referral_data", plugin, asBase64),
  };
}

// Objects, arrays and elements of a JSON text (`{`, `[` and `,` outside strings), counted up to
// just past `limit`. Malformed text is left for JSON.parse to refuse.
function jsonValues(bytes: Uint8Array, limit: number): number {
  let n = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (inString) {
      if (b === 0x5c) i++; // a backslash: the next byte is escaped
      else if (b === 0x22) inString = false;
    } else if (b === 0x22) inString = true;
    else if ((b === 0x7b || b === 0x5b || b === 0x2c) && ++n > limit) return n;
  }
  return n;
}

/** A ConnectResponse field, found the way Go's encoding/json finds it ({@link field}). */
function optional<T>(
  doc: Record<string, unknown>,
  key: string,
  plugin: string,
  check: Check<T>,
): T | null {
  return optionalField(doc, key, plugin, check, field);
}

const asBase64: Check<Uint8Array> = (v) => {
  if (typeof v !== "string") return new Problem("expected a base64 string");
  try {
    return Uint8Array.fromBase64(v);
  } catch {
    return new Problem("invalid base64");
  }
};

/**
 * A JSON field the way Go's encoding/json finds it: the exact key, else the first key that
 * matches case-insensitively (Go plugins may marshal structs without JSON tags: `Deny`, `Host`).
 */
function field(doc: Record<string, unknown>, key: string): unknown {
  if (key in doc) return doc[key];
  const folded = Object.keys(doc).find((k) => k.toLowerCase() === key);
  return folded === undefined ? undefined : doc[folded];
}

const asBackend: Check<ResponseBackend> = (v) => {
  if (!isObject(v)) return new Problem("expected a backend object");
  // Missing fields take Go's zero values, as encoding/json leaves them.
  const host = field(v, "host") ?? "";
  const port = field(v, "port") ?? 0;
  const weight = field(v, "weight");
  const meta = field(v, "meta");
  if (typeof host !== "string") return new Problem("backend host must be a string");
  if (!isPort(port)) return new Problem("backend port must be an integer 0-65535");
  if (weight !== undefined && weight !== null && !Number.isSafeInteger(weight)) {
    return new Problem("backend weight must be an integer");
  }
  const checkedMeta = asMeta(meta);
  if (checkedMeta instanceof Problem) return checkedMeta;
  return { host, port, weight: typeof weight === "number" ? weight : 0, meta: checkedMeta };
};

function asMeta(meta: unknown): Readonly<Record<string, string>> | null | Problem {
  if (meta === undefined || meta === null) return null;
  if (!isObject(meta)) return new Problem("backend meta must be an object of strings");
  for (const value of Object.values(meta)) {
    if (typeof value !== "string") return new Problem("backend meta values must be strings");
  }
  return meta as Record<string, string>;
}

const asBackendList = listOf(asBackend, "expected a list of backends");

const bad = badResponse;
