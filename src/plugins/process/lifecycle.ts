/**
 * The lifecycle channel (docs/plugins.md §7): one JSON object per line. The router writes
 * `configure` to the plugin's stdin; the plugin answers (`{"result":"ok"}` or `{"error":..}`) and
 * pushes `ready`, `log`, `set_targets` and `set_speed` on its stdout whenever it likes.
 */

import type { Backend } from "../../config/mod.ts";
import type { LogFields, Logger } from "../../observability/mod.ts";
import { isObject } from "../shape.ts";
import { PLUGIN_LOG_LEVELS, type PluginLog, TokenBucket } from "../wasm/plugin_log.ts";

/** Longest stdout line, bytes without the newline; a longer one is a protocol error. */
export const MAX_LINE_BYTES = 1024 * 1024;

/** Characters of a skipped line or value quoted in a log line. */
const QUOTED_CHARS = 200;
/** Warnings about one plugin's bad lines: a burst, then per second (a flood is counted). */
const WARN_BURST = 20;
const WARNS_PER_SECOND = 5;

/** What the plugin told the router, as the supervisor acts on it. */
export interface LifecycleEvents {
  /** `ready`: the socket the plugin listens on and the hooks it serves (unchecked here). */
  ready(socket: string, hooks: readonly string[]): void;
  /** A `configure` answer: `null` for `{"result":..}`, else the `error` text. */
  answer(error: string | null): void;
  /** `set_targets`: the target set's id and its backends (bad entries already dropped). */
  targets(setId: string, backends: readonly Backend[]): void;
}

/** The `configure` request line for the plugin's stdin. */
export function configureLine(
  routeId: string,
  socket: string,
  socketDir: string,
  config: unknown,
): Uint8Array {
  const params = { route_id: routeId, socket, socket_dir: socketDir, config };
  return new TextEncoder().encode(JSON.stringify({ method: "configure", params }) + "\n");
}

/** How {@link readLines} ended. */
export type LinesEnd = "ended" | "too_long";

/**
 * Splits `stream` into lines (without `\n`, a trailing `\r` kept) and hands each to `onLine`.
 * A line longer than `maxBytes` ends reading with `too_long` when `cut` is false (nothing past
 * the limit is buffered); with `cut`, its first `maxBytes` are handed on and the rest skipped.
 */
export async function readLines(
  stream: ReadableStream<Uint8Array>,
  maxBytes: number,
  onLine: (line: string) => void,
  cut = false,
): Promise<LinesEnd> {
  const decoder = new TextDecoder();
  const reader = stream.getReader();
  let parts: Uint8Array[] = [];
  let pending = 0;
  let skipping = false;
  const flush = (last: Uint8Array) => {
    parts.push(last);
    onLine(decoder.decode(concat(parts, pending + last.length)));
    parts = [];
    pending = 0;
  };
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      let chunk = value;
      for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10)) {
        const line = chunk.subarray(0, nl);
        chunk = chunk.subarray(nl + 1);
        if (skipping) skipping = false;
        else if (pending + line.length <= maxBytes) flush(line);
        else if (!cut) return "too_long";
        else flush(line.subarray(0, maxBytes - pending));
      }
      if (skipping || chunk.length === 0) continue;
      if (pending + chunk.length <= maxBytes) {
        parts.push(chunk.slice());
        pending += chunk.length;
      } else if (!cut) {
        return "too_long";
      } else {
        flush(chunk.subarray(0, maxBytes - pending));
        skipping = true;
      }
    }
    if (pending > 0) flush(new Uint8Array(0));
    return "ended";
  } finally {
    reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

function concat(parts: readonly Uint8Array[], length: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Acts on the plugin's stdout lines. One per plugin, kept across restarts (`set_speed` is
 * reported once per plugin, not once per process). A line that is not a JSON object, an
 * unknown method or malformed params are logged (truncated) and skipped.
 */
export class LifecycleDispatcher {
  readonly #logger: Logger;
  readonly #log: PluginLog;
  readonly #now: () => number;
  readonly #warnings: TokenBucket;
  #suppressed = 0;
  #speedReported = false;

  /**
   * `logger` and `log` are the plugin's own (tagged with its name); `now` (ms, default
   * `performance.now`) paces the warnings about bad lines, so a plugin writing garbage in a loop
   * cannot flood the router's log.
   */
  constructor(logger: Logger, log: PluginLog, now: () => number = () => performance.now()) {
    this.#logger = logger;
    this.#log = log;
    this.#now = now;
    this.#warnings = new TokenBucket(WARNS_PER_SECOND, WARN_BURST, now());
  }

  /** Handles one stdout line of the process that `events` stands for. */
  line(text: string, events: LifecycleEvents): void {
    if (text.trim() === "") return;
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      doc = undefined;
    }
    if (!isObject(doc)) {
      this.#warn("plugin stdout line is not a JSON object; skipped", { line: quoted(text) });
      return;
    }
    if (!("method" in doc) && ("result" in doc || "error" in doc)) {
      events.answer(doc.error === undefined || doc.error === null ? null : asText(doc.error));
      return;
    }
    this.#push(doc, events);
  }

  #push(doc: Record<string, unknown>, events: LifecycleEvents): void {
    const params = isObject(doc.params) ? doc.params : {};
    switch (doc.method) {
      case "ready":
        events.ready(
          typeof params.socket === "string" ? params.socket : "",
          Array.isArray(params.hooks) ? params.hooks.map(asText) : [],
        );
        return;
      case "log":
        return this.#pluginLog(params);
      case "set_targets":
        return this.#targets(params, events);
      case "set_speed":
        if (this.#speedReported) return;
        this.#speedReported = true;
        this.#logger.info("plugin set_speed ignored: the router carries no gameplay traffic");
        return;
      default:
        this.#warn("plugin sent an unknown lifecycle method; skipped", {
          method: quoted(asText(doc.method)),
        });
    }
  }

  #pluginLog(params: Record<string, unknown>): void {
    const level = PLUGIN_LOG_LEVELS.indexOf(params.level as "info");
    const args = Array.isArray(params.args) && params.args.length > 0
      ? " " + JSON.stringify(params.args)
      : "";
    this.#log.write(
      level < 0 ? 1 : level as 0 | 1 | 2 | 3,
      "plugin",
      asText(params.message) + args,
    );
  }

  #targets(params: Record<string, unknown>, events: LifecycleEvents): void {
    const setId = params.route_id ?? params.action;
    if (typeof setId !== "string" || setId === "") {
      this.#warn("plugin set_targets without route_id or action; skipped", {});
      return;
    }
    const { backends, dropped } = parseTargets(params);
    if (dropped.length > 0) {
      this.#warn("plugin set_targets entries dropped (not host:port with port 1-65535)", {
        set: setId,
        dropped: dropped.length,
        entries: quoted(dropped.slice(0, 5).join(", ")),
      });
    }
    events.targets(setId, backends);
  }

  // Over the budget a warning is counted, and the count goes on the next one written.
  #warn(message: string, fields: LogFields): void {
    if (!this.#warnings.take(this.#now())) {
      this.#suppressed++;
      return;
    }
    const suppressed = this.#suppressed > 0 ? this.#suppressed : undefined;
    this.#suppressed = 0;
    this.#logger.warn(message, { ...fields, suppressed });
  }
}

/**
 * `set_targets` params as backends: each `targets` entry `{host, port, weight: 1}`, each entry
 * of `groups[NAME]` the same with meta `group: NAME`. Entries that are not `host:port` (IPv6 as
 * `[addr]:port`) with a port 1–65535 are returned in `dropped`, as text.
 */
export function parseTargets(
  params: Record<string, unknown>,
): { backends: Backend[]; dropped: string[] } {
  const backends: Backend[] = [];
  const dropped: string[] = [];
  const add = (entries: unknown, meta: Readonly<Record<string, string>> | null) => {
    if (entries === undefined || entries === null) return;
    if (!Array.isArray(entries)) return void dropped.push(asText(entries));
    for (const entry of entries) {
      const address = typeof entry === "string" ? hostPort(entry) : null;
      if (address) backends.push({ ...address, weight: 1, meta });
      else dropped.push(asText(entry));
    }
  };
  add(params.targets, null);
  if (isObject(params.groups)) {
    for (const [group, entries] of Object.entries(params.groups)) add(entries, { group });
  } else if (params.groups !== undefined && params.groups !== null) {
    dropped.push(asText(params.groups));
  }
  return { backends, dropped };
}

function hostPort(entry: string): { host: string; port: number } | null {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:\[\]]+)):(\d{1,5})$/.exec(entry);
  if (!m) return null;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return null;
  return { host: m[1] ?? m[2]!, port };
}

// Any JSON value as text (strings as they are).
function asText(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v) ?? String(v);
}

function quoted(s: string): string {
  return s.length > QUOTED_CHARS ? s.slice(0, QUOTED_CHARS) + "…" : s;
}
