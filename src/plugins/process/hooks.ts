/**
 * The hooks' data (docs/plugins.md §7): the `on_connect` request built from the chain's call, its
 * response checked strictly into the chain's {@link PluginResponse}, and the `on_disconnect`
 * data. Keys are prox's short ones (`ConnInfo`, `ConnResult`, `DisconnectInfo`) plus Gatehouse's.
 */

import { Decoder, Encoder } from "@msgpack/msgpack";
import type { Backend } from "../../config/mod.ts";
import type { PluginResponse, ResponseBackend } from "../codec.ts";
import {
  asInt,
  asString,
  badResponse,
  type Check,
  isPort,
  listOf,
  optionalField,
  Problem,
} from "../shape.ts";
import type { ConnectCall, ConnectionEnd } from "../transport.ts";

// Optional keys are left out of the object rather than sent as nil. One encoder and decoder
// for every call: `encode()`/`decode()` would build one (and its buffers) per call.
const encoder = new Encoder({ ignoreUndefined: true });
const decoder = new Decoder();

/**
 * The `on_connect` data for plugin `routeId`: `r d a md|mg u id l ct ph it c s b rc`. `md`/`mg`
 * are left out for the default pool; `ct`, `ph`, `it` when zero, empty or false; `b` when
 * nothing is selected; `rc` when empty. The identity token itself is never sent.
 */
export function encodeConnect(routeId: string, call: ConnectCall): Uint8Array {
  const { event, state, route } = call;
  return encoder.encode({
    r: routeId,
    d: call.sni,
    a: call.client,
    md: route && !route.glob ? route.hostname : undefined,
    mg: route?.glob ? route.hostname : undefined,
    u: event.username,
    id: event.uuid,
    l: event.language,
    ct: event.clientType || undefined,
    ph: event.protocolHash || undefined,
    it: event.identityTokenPresent || undefined,
    c: state.candidates.map(backendData),
    s: state.selectedIndex,
    b: state.backend ? backendData(state.backend) : undefined,
    rc: state.referralContent.length > 0 ? state.referralContent : undefined,
  });
}

// Shared by every backend without meta: the encoder only reads it.
const NO_META: Readonly<Record<string, string>> = Object.freeze({});

function backendData(b: Backend) {
  return { h: b.host, p: b.port, w: b.weight, m: b.meta ?? NO_META };
}

/** The `on_disconnect` data: `r tg a rx tx ms o u id`. */
export function encodeDisconnect(routeId: string, end: ConnectionEnd): Uint8Array {
  return encoder.encode({
    r: routeId,
    tg: end.target,
    a: end.client,
    rx: end.rxBytes,
    tx: end.txBytes,
    ms: Math.round(end.durationMs),
    o: end.outcome,
    u: end.username,
    id: end.uuid,
  });
}

/**
 * Checks an `on_connect` response: a map with `ok` (bool, required) and optional `rs` (str),
 * `c` (array of backends), `s` (int), `b` (backend), `rc` (bin); a nil value counts as absent
 * and unknown keys are ignored. `ok: false` is a deny with `rs` as its reason. Anything else —
 * not msgpack, trailing bytes, a missing `ok`, a wrong type — is a `bad_response` error.
 */
export function decodeConnectResult(bytes: Uint8Array, plugin: string): PluginResponse {
  let doc: unknown;
  try {
    doc = decoder.decode(bytes);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw bad(plugin, `response is not msgpack (${bytes.length} bytes): ${why}`);
  }
  if (!isMap(doc)) throw bad(plugin, "response is not a msgpack map");
  if (typeof doc.ok !== "boolean") throw bad(plugin, `response lacks the boolean "ok"`);
  return {
    deny: !doc.ok,
    denyReason: optionalField(doc, "rs", plugin, asString) ?? "",
    candidates: optionalField(doc, "c", plugin, asBackendList),
    selectedIndex: optionalField(doc, "s", plugin, asInt),
    backend: optionalField(doc, "b", plugin, asBackend),
    referralContent: optionalField(doc, "rc", plugin, asBin),
  };
}

const asBin: Check<Uint8Array> = (v) => v instanceof Uint8Array ? v : new Problem("expected bin");

const asBackend: Check<ResponseBackend> = (v) => {
  if (!isMap(v)) return new Problem("expected a backend map {h, p, w, m}");
  // Missing keys take Go's zero values, as a Go msgpack decoder leaves them.
  const { h = "", p = 0, w = null, m = null } = v;
  if (typeof h !== "string") return new Problem("backend h must be a string");
  if (!isPort(p)) return new Problem("backend p must be an integer 0-65535");
  if (w !== null && !Number.isSafeInteger(w)) return new Problem("backend w must be an integer");
  if (m !== null && (!isMap(m) || Object.values(m).some((x) => typeof x !== "string"))) {
    return new Problem("backend m must be a map of strings");
  }
  return {
    host: h,
    port: p,
    weight: typeof w === "number" ? w : 0,
    meta: m as Readonly<Record<string, string>> | null,
  };
};

const asBackendList = listOf(asBackend, "expected an array of backends");

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) &&
    !(v instanceof Uint8Array) && Object.getPrototypeOf(v) === Object.prototype;
}

const bad = badResponse;
