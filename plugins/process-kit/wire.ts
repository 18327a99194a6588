/**
 * The socket side of docs/plugins.md §7 (the hooks): frames are a 4-byte big-endian
 * length and that many bytes of msgpack (at most 1 MiB); a request is `{t: hook type, d: bin}`
 * with `d` the msgpack of the hook's data, keyed by prox's short names. This file maps those keys
 * to the readable ones of `types.ts` and back, so handlers never see `u` or `rc`.
 */
// A full specifier, not deno.json's `@msgpack/msgpack`: the router runs a `module` plugin with
// `--no-config`, so the kit must resolve without an import map (the version is deno.json's pin;
// tests/plugins/process/kit_test.ts checks that they agree).
import { decode, encode } from "npm:@msgpack/msgpack@3.1.3";
import type { Backend, ConnectInfo, ConnectResult, DisconnectInfo } from "./types.ts";

/** Largest frame either side sends or accepts. */
export const MAX_FRAME = 1 << 20;

/** Hook types of the envelope's `t` (1 and 2 are prox's HTTP hooks, never sent by Gatehouse). */
export const HOOK_ON_CONNECT = 3;
export const HOOK_ON_DISCONNECT = 4;

/** A request frame's envelope. */
export interface Envelope {
  readonly type: number;
  readonly data: Uint8Array;
}

type Wire = Record<string, unknown>;

/**
 * Reads frames off `conn` until it closes cleanly between frames. A frame over MAX_FRAME, or an end
 * inside one, throws: after a bad length prefix nothing that follows can be trusted to be a frame
 * start, so the caller drops the connection. Reads into one buffer (not 4 bytes, then the body) to
 * take one read per frame, or less when the router writes several at once.
 */
export async function* readFrames(conn: Deno.Conn): AsyncGenerator<Uint8Array> {
  let buffer = new Uint8Array(64 * 1024);
  let start = 0;
  let end = 0;
  while (true) {
    let wanted = 4; // bytes the next frame needs from `start`, once its header is known
    while (end - start >= 4) {
      const length = new DataView(buffer.buffer, start, 4).getUint32(0);
      if (length > MAX_FRAME) throw new Error(`frame of ${length} bytes (at most ${MAX_FRAME})`);
      wanted = 4 + length;
      if (end - start < wanted) break;
      yield buffer.slice(start + 4, start + wanted);
      start += wanted;
      wanted = 4;
    }
    if (start === end) start = end = 0;
    if (buffer.length - end < wanted - (end - start)) { // no room after `end`: move the frame up
      if (wanted > buffer.length) {
        const bigger = new Uint8Array(wanted);
        bigger.set(buffer.subarray(start, end));
        buffer = bigger;
      } else {
        buffer.copyWithin(0, start, end);
      }
      end -= start;
      start = 0;
    }
    const n = await conn.read(buffer.subarray(end));
    if (n === null) {
      if (start === end) return;
      throw new Error("connection closed inside a frame");
    }
    end += n;
  }
}

/** One frame: the length prefix and `body` in a single buffer, so it goes out in one write. */
export function frame(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, body.length);
  out.set(body, 4);
  return out;
}

/** Decodes a request frame's envelope; throws on anything else. */
export function decodeEnvelope(body: Uint8Array): Envelope {
  const value = decode(body);
  if (!isMap(value) || typeof value.t !== "number" || !(value.d instanceof Uint8Array)) {
    throw new Error("frame is not an envelope {t: uint, d: bin}");
  }
  return { type: value.t, data: value.d };
}

/** `on_connect` data → ConnectInfo. Absent keys are the router's "zero, empty or none". */
export function decodeConnectInfo(data: Uint8Array): ConnectInfo {
  const w = decodeMap(data);
  const candidates = Array.isArray(w.c) ? w.c.filter(isMap).map(backendFromWire) : [];
  return {
    route: str(w.r),
    sni: str(w.d),
    clientAddress: str(w.a),
    ...optional("matchedHostname", w.md),
    ...optional("matchedGlob", w.mg),
    ...optional("username", w.u),
    ...optional("uuid", w.id),
    ...optional("language", w.l),
    ...optional("protocolHash", w.ph),
    ...(typeof w.ct === "number" ? { clientType: w.ct } : {}),
    identityTokenPresent: w.it === true,
    candidates,
    selectedIndex: typeof w.s === "number" ? w.s : -1,
    ...(isMap(w.b) ? { backend: backendFromWire(w.b) } : {}),
    ...(w.rc instanceof Uint8Array && w.rc.length > 0 ? { referralContent: w.rc } : {}),
  };
}

/** `on_disconnect` data → DisconnectInfo. */
export function decodeDisconnectInfo(data: Uint8Array): DisconnectInfo {
  const w = decodeMap(data);
  return {
    route: str(w.r),
    outcome: str(w.o),
    target: str(w.tg),
    clientAddress: str(w.a),
    ...optional("username", w.u),
    ...optional("uuid", w.id),
    bytesIn: num(w.rx),
    bytesOut: num(w.tx),
    durationMs: num(w.ms),
  };
}

/** ConnectResult → the response frame's body (`ok`, and `rs`, `c`, `s`, `b`, `rc` when set). */
export function encodeConnectResult(result: ConnectResult): Uint8Array {
  if (!result.ok) return encode({ ok: false, rs: result.reason ?? "" });
  const wire: Wire = { ok: true };
  if (result.candidates !== undefined) wire.c = result.candidates.map(backendToWire);
  if (result.selectedIndex !== undefined) wire.s = result.selectedIndex;
  if (result.backend !== undefined) wire.b = backendToWire(result.backend);
  if (result.referralContent !== undefined) wire.rc = result.referralContent;
  return encode(wire);
}

/**
 * The answer for a handler that threw: a map without `ok`, which the contract makes a plugin error
 * (the plugin's `failure_policy` decides), on a connection that stays usable.
 */
export const PLUGIN_ERROR_ANSWER: Uint8Array = encode({});

function decodeMap(data: Uint8Array): Wire {
  const value = decode(data);
  if (!isMap(value)) throw new Error("hook data is not a msgpack map");
  return value;
}

function backendFromWire(w: Wire): Backend {
  const meta = isMap(w.m) ? stringMap(w.m) : undefined;
  return { host: str(w.h), port: num(w.p), weight: num(w.w), ...(meta ? { meta } : {}) };
}

function backendToWire(b: Backend): Wire {
  return { h: b.host, p: b.port, w: b.weight ?? 1, m: b.meta ?? {} };
}

function stringMap(w: Wire): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(w)) if (typeof v === "string") out[k] = v;
  return out;
}

function optional<K extends string>(key: K, value: unknown): { [P in K]?: string } {
  return typeof value === "string" && value !== "" ? { [key]: value } as { [P in K]: string } : {};
}

function isMap(value: unknown): value is Wire {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    !(value instanceof Uint8Array);
}

function str(value: unknown): string {
  return typeof value === "string" ? value : "";
}

function num(value: unknown): number {
  return typeof value === "number" ? value : 0;
}
