/**
 * Explain: the whole decision a player with given facts would get now — maintenance gate, route,
 * candidates and each selection pass, every plugin's answer, the reply — without a game client.
 * It runs the very decision step a Connect runs (`chooseReply`), with the router's tracing
 * `explain` in place of `decide`; plugins are called, but nothing is counted in the metrics,
 * recorded as a decision or told to `on_disconnect` listeners (docs/operations.md §5.4).
 */
import { type Backend, isSecretKey, parseIpAddress, REDACTED } from "../config/mod.ts";
import type { Logger } from "../observability/mod.ts";
import type { PluginResponse, PluginVerdict, ResponseBackend } from "../plugins/mod.ts";
import {
  type ConnectEvent,
  isUuidText,
  MAX_LANGUAGE_BYTES_V2,
  MAX_USERNAME_BYTES,
} from "../protocol/mod.ts";
import {
  type AttemptTrace,
  backendKey,
  type RouteExplanation,
  type RouteRequest,
} from "../routing/mod.ts";
import type { RuntimeControls } from "./controls.ts";
import { chooseReply, type Reply } from "./reply.ts";
import type { RuntimeSnapshot } from "./snapshot.ts";

/** The player facts explain decides for, as a Connect (v2) would carry them. */
export interface ExplainRequest {
  /** TLS server name; `""` routes as a connection without SNI. */
  readonly sni: string;
  /** The Connect's username. */
  readonly username: string;
  /** Lower-case `8-4-4-4-12`; the nil UUID when not given. */
  readonly uuid: string;
  /** The client language (selects the Disconnect text); `""` when not given. */
  readonly language: string;
  /** The Connect's `client_type` (u8); 0 when not given. */
  readonly clientType: number;
  /** The client IP the maintenance bypass list is matched against; `null` when not given. */
  readonly clientIp: string | null;
}

/** An explain request field that is missing or out of bounds; the API answers 400 naming it. */
export class ExplainInputError extends Error {
  /** Lets callers tell these errors apart without `instanceof`. */
  readonly code = "explain_input";
  /** `field` is the JSON field at fault (`body` for the body as a whole). */
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = "ExplainInputError";
  }
}

/** One candidate as explain shows it (meta values at secret keys redacted). */
export interface ExplainedBackend {
  /** Host the client would be referred to. */
  readonly host: string;
  /** UDP port the client would be referred to. */
  readonly port: number;
  /** Share of picks under `weighted`. */
  readonly weight: number;
  /** Metadata; values at keys naming a secret are redacted. */
  readonly meta: Readonly<Record<string, string>> | null;
}

/** One selection pass, its lists as `host:port`. */
export interface ExplainedAttempt {
  /** The pass's strategy. */
  readonly strategy: string;
  /** What the filters kept. */
  readonly after_filters: readonly string[];
  /** In sort order. */
  readonly after_sort: readonly string[];
  /** Cut to the limit: what the strategy chose from. */
  readonly after_limit: readonly string[];
  /** The strategy's pick; `null` when the pass picked nothing. */
  readonly picked: string | null;
  /** Why the pass picked nothing; `null` when it picked. */
  readonly note: string | null;
}

/** A plugin's answer as plain JSON, bounded (lists and texts cut, referral content as base64). */
export interface ExplainedAnswer {
  /** Whether the plugin denied. */
  readonly deny: boolean;
  /** The text the player would see (cut at {@link MAX_TEXT_CHARS}). */
  readonly deny_reason: string;
  /** The plugin's explicit backend, if any. */
  readonly backend: ExplainedBackend | null;
  /** The plugin's candidate list (the first {@link MAX_LISTED}), if any. */
  readonly candidates: readonly ExplainedBackend[] | null;
  /** How many candidates the plugin sent. */
  readonly candidates_total: number;
  /** `selected_index`, if sent. */
  readonly selected_index: number | null;
  /** Referral content: its length and its first {@link MAX_CONTENT_BYTES} bytes in base64. */
  readonly referral_content: {
    readonly length: number;
    readonly base64: string;
    readonly truncated: boolean;
  } | null;
}

/** One plugin's verdict in the chain. */
export interface ExplainedPlugin {
  /** The plugin's configured name. */
  readonly plugin: string;
  /** `continue`, `deny`, `error` or `skipped`. */
  readonly verdict: PluginVerdict["verdict"];
  /** How long the call took. */
  readonly ms: number;
  /** The failure, when the call failed. */
  readonly error?: string;
  /** The plugin's answer, when it gave one. */
  readonly answer?: ExplainedAnswer;
}

/** The reply the player would get. */
export type ExplainedReply =
  | { readonly kind: "referral"; readonly backend: string }
  | {
    readonly kind: "disconnect";
    /** The outcome label (`maintenance`, `deny`, `no_route`, …) as metrics count it. */
    readonly outcome: string;
    /** The Disconnect text, in the request's language. */
    readonly message: string;
    /** Why, for the operator (never sent to players). */
    readonly detail: string | null;
  };

/** What explain answers (`POST /api/v1/explain`, `gatehouse explain --json`). */
export interface Explanation {
  /** The facts decided for, as validated. */
  readonly request: {
    readonly sni: string;
    readonly username: string;
    readonly uuid: string;
    readonly language: string;
    readonly client_type: number;
    readonly client_ip: string | null;
  };
  /** Maintenance mode now, and whether this player passes it. */
  readonly maintenance: { readonly enabled: boolean; readonly bypassed: boolean };
  /** The route chosen; `null` when none matched (or maintenance turned the player away). */
  readonly route: {
    readonly label: string;
    readonly matched: { readonly hostname: string; readonly glob: boolean } | null;
  } | null;
  /** The candidates and each selection pass. */
  readonly candidates: {
    readonly resolved: readonly (ExplainedBackend & { readonly drained: boolean })[];
    /** The provider of a pool that allocates per connection (explain does not allocate). */
    readonly allocation: string | null;
    readonly attempts: readonly ExplainedAttempt[];
  };
  /** Each plugin's verdict and answer, in chain order. */
  readonly plugins: readonly ExplainedPlugin[];
  /** What the player would get. */
  readonly reply: ExplainedReply;
}

/** What explaining needs of the router: the snapshot and controls now in force. */
export interface ExplainContext {
  /** The rules in force. */
  readonly snapshot: RuntimeSnapshot;
  /** Maintenance mode and drains now. */
  readonly controls: RuntimeControls;
  /** Gets the warnings a decision may log. */
  readonly logger: Logger;
}

/** The UUID explain uses when none is given (as `probe` sends). */
export const NIL_UUID = "00000000-0000-0000-0000-000000000000";
/** Longest SNI accepted (UTF-8 bytes): a DNS name's limit. */
export const MAX_SNI_BYTES = 255;
/** Plugin candidates listed per answer. */
export const MAX_LISTED = 100;
/** Characters of a plugin's deny reason shown. */
export const MAX_TEXT_CHARS = 1024;
/** Bytes of referral content shown (base64). */
export const MAX_CONTENT_BYTES = 1024;

const FIELDS: ReadonlySet<string> = new Set([
  "sni",
  "username",
  "uuid",
  "language",
  "client_type",
  "client_ip",
]);
const utf8 = new TextEncoder();

/**
 * Validates an explain body (untrusted JSON): `sni` and `username` required, `uuid`,
 * `language`, `client_type` and `client_ip` optional, nothing else. Sizes are the Connect's
 * own limits. Throws {@link ExplainInputError} naming the field.
 */
export function parseExplainRequest(body: unknown): ExplainRequest {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new ExplainInputError("body", "must be a JSON object");
  }
  const fields = body as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (!FIELDS.has(key)) {
      const name = key.length > 64 ? `${key.slice(0, 64)}…` : key;
      throw new ExplainInputError(name, `unknown field (expected ${[...FIELDS].join(", ")})`);
    }
  }
  const uuid = optional(fields, "uuid", NIL_UUID, NIL_UUID.length);
  if (!isUuidText(uuid)) throw new ExplainInputError("uuid", "must look like 8-4-4-4-12 hex");
  return {
    sni: text(fields, "sni", MAX_SNI_BYTES),
    username: text(fields, "username", MAX_USERNAME_BYTES),
    uuid: uuid.toLowerCase(),
    language: optional(fields, "language", "", MAX_LANGUAGE_BYTES_V2),
    clientType: clientType(fields.client_type),
    clientIp: clientIp(fields.client_ip),
  };
}

function text(fields: Record<string, unknown>, field: string, maxBytes: number): string {
  const value = fields[field];
  if (value === undefined) throw new ExplainInputError(field, "is required");
  if (typeof value !== "string") throw new ExplainInputError(field, "must be a string");
  return bounded(field, value, maxBytes);
}

function optional(
  fields: Record<string, unknown>,
  field: string,
  fallback: string,
  maxBytes: number,
): string {
  const value = fields[field];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "string") throw new ExplainInputError(field, "must be a string");
  return bounded(field, value, maxBytes);
}

function bounded(field: string, value: string, maxBytes: number): string {
  // A string over maxBytes UTF-16 units is over maxBytes UTF-8 bytes: no need to encode it.
  if (value.length > maxBytes || utf8.encode(value).length > maxBytes) {
    throw new ExplainInputError(field, `must be at most ${maxBytes} bytes (UTF-8)`);
  }
  return value;
}

function clientType(value: unknown): number {
  if (value === undefined || value === null) return 0;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > 255) {
    throw new ExplainInputError("client_type", "must be a whole number from 0 to 255");
  }
  return value;
}

function clientIp(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  const ok = typeof value === "string" && value.length <= 45 &&
    parseIpAddress(value, new Uint32Array(4)) !== null;
  if (!ok) throw new ExplainInputError("client_ip", "must be an IPv4 or IPv6 address");
  return value;
}

/**
 * Explains the decision for `request` under `ctx`. Plugins are called (with client address
 * `""`, as for a connection whose address no plugin is given); the calls are not counted.
 * Never throws but on a bug.
 */
export async function explainDecision(
  ctx: ExplainContext,
  request: ExplainRequest,
): Promise<Explanation> {
  const { snapshot, controls, logger } = ctx;
  const event = syntheticEvent(request);
  const verdicts: PluginVerdict[] = [];
  let traced: RouteExplanation | null = null;
  const decide = async (req: RouteRequest) => {
    traced = await snapshot.router.explain(req);
    return traced.result;
  };
  const reply = await chooseReply({
    snapshot,
    controls,
    logger,
    sni: request.sni === "" ? null : request.sni,
    event,
    client: "",
    ip: request.clientIp,
    verdicts,
    decide,
    unobserved: true,
  });
  const gate = controls.maintenance;
  const facts = { username: event.username, uuid: event.uuid, ip: request.clientIp };
  return {
    request: requestJson(request),
    maintenance: { enabled: gate.enabled, bypassed: gate.enabled && gate.bypassed(facts) },
    ...traceJson(traced),
    plugins: verdicts.map(pluginJson),
    reply: replyJson(reply),
  };
}

/** A v2 Connect with the request's facts and nothing else. */
function syntheticEvent(request: ExplainRequest): ConnectEvent {
  return {
    layout: "v2",
    protocolHash: "",
    protocolCrc: 0,
    protocolBuildNumber: 0,
    clientVersion: "",
    clientType: request.clientType,
    uuid: request.uuid,
    username: request.username,
    language: request.language,
    identityTokenPresent: false,
    referralDataLength: 0,
    referralSource: null,
  };
}

function requestJson(r: ExplainRequest): Explanation["request"] {
  return {
    sni: r.sni,
    username: r.username,
    uuid: r.uuid,
    language: r.language,
    client_type: r.clientType,
    client_ip: r.clientIp,
  };
}

function traceJson(
  traced: RouteExplanation | null,
): Pick<Explanation, "route" | "candidates"> {
  if (traced === null) {
    return { route: null, candidates: { resolved: [], allocation: null, attempts: [] } };
  }
  const { trace } = traced;
  return {
    route: trace.route === null ? null : { label: trace.route, matched: trace.matched },
    candidates: {
      resolved: trace.resolved.map((c) => ({ ...backendJson(c.backend), drained: c.drained })),
      allocation: trace.allocation,
      attempts: trace.attempts.map(attemptJson),
    },
  };
}

function attemptJson(a: AttemptTrace): ExplainedAttempt {
  const pick = a.afterLimit[a.picked];
  return {
    strategy: a.strategy,
    after_filters: a.afterFilters.map(backendKey),
    after_sort: a.afterSort.map(backendKey),
    after_limit: a.afterLimit.map(backendKey),
    picked: pick === undefined ? null : backendKey(pick),
    note: a.note,
  };
}

function backendJson(b: Backend | ResponseBackend): ExplainedBackend {
  const meta = b.meta &&
    Object.fromEntries(
      Object.entries(b.meta).map(([k, v]) => [k, isSecretKey(k) ? REDACTED : v]),
    );
  return { host: b.host, port: b.port, weight: b.weight, meta };
}

function pluginJson(v: PluginVerdict): ExplainedPlugin {
  const ms = Math.round(v.ms * 100) / 100;
  return {
    plugin: v.plugin,
    verdict: v.verdict,
    ms,
    ...(v.error === undefined ? {} : { error: v.error }),
    ...(v.answer === undefined ? {} : { answer: answerJson(v.answer) }),
  };
}

function answerJson(r: PluginResponse): ExplainedAnswer {
  const content = r.referralContent;
  const shown = content?.subarray(0, MAX_CONTENT_BYTES);
  return {
    deny: r.deny,
    deny_reason: r.denyReason.length > MAX_TEXT_CHARS
      ? `${r.denyReason.slice(0, MAX_TEXT_CHARS)}…`
      : r.denyReason,
    backend: r.backend === null ? null : backendJson(r.backend),
    candidates: r.candidates?.slice(0, MAX_LISTED).map(backendJson) ?? null,
    candidates_total: r.candidates?.length ?? 0,
    selected_index: r.selectedIndex,
    referral_content: content === null || shown === undefined ? null : {
      length: content.length,
      base64: btoa(String.fromCharCode(...shown)),
      truncated: content.length > shown.length,
    },
  };
}

function replyJson(reply: Reply): ExplainedReply {
  if (reply.kind === "referral" && reply.backend !== null) {
    return { kind: "referral", backend: reply.backend };
  }
  return {
    kind: "disconnect",
    outcome: reply.kind,
    message: reply.text ?? "",
    detail: reply.detail,
  };
}
