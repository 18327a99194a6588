/**
 * Observability: the structured logger, the Prometheus metrics, readiness checks and the admin
 * HTTP endpoint that serves them (`/metrics`, `/healthz`, `/readyz`) and the bearer-token JSON
 * API (`/api/v1/*`).
 *
 * @module
 */

export {
  /** The accepted `--log-format` values. */
  LOG_FORMATS,
  /** The accepted `--log-level` values, lowest severity first. */
  LOG_LEVELS,
  /** A leveled logger writing text or JSON lines. */
  Logger,
  /** Untrusted text with control characters escaped, for output outside the logger. */
  printable,
} from "./logger.ts";
export type { LogFields, LogFormat, LogLevel, LogSink } from "./logger.ts";
export {
  /** Every connection outcome, as the `outcome` label spells it. */
  CONNECTION_OUTCOMES,
  /** Every admission refusal reason, as the `reason` label spells it. */
  CONNECTION_REFUSALS,
  /** The router's metrics in a registry of their own, with small typed recording methods. */
  Metrics,
  /** Every plugin call failure kind, as the `kind` label spells it. */
  PLUGIN_ERROR_KINDS,
  /** How many of a plugin's latest calls the admin API's latency percentiles cover. */
  RECENT_CALLS,
} from "./metrics.ts";
export type {
  ConnectionOutcome,
  DiscoveryState,
  MetricsOptions,
  PluginCounts,
  PluginErrorKind,
  RefusalReason,
} from "./metrics.ts";
export {
  /** How many decisions the ring keeps by default. */
  DECISION_LOG_SIZE,
  /** A decision record as the API shows it. */
  decisionJson,
  /** A bounded ring of the newest decisions, with listeners (`/api/v1/decisions`, events). */
  DecisionLog,
} from "./decision_log.ts";
export type { DecisionJson, DecisionRecord, PluginVerdictRecord } from "./decision_log.ts";
export {
  /** A Server-Sent Events response fed by subscriptions, cutting off clients that lag. */
  eventStream,
  /** Comment-line interval of an event stream. */
  KEEP_ALIVE_MS,
  /** Events one stream client may have waiting before it is cut off. */
  MAX_QUEUED_EVENTS,
} from "./event_stream.ts";
export type { EmitEvent, EventStreamOptions } from "./event_stream.ts";
export {
  /** Named readiness checks, evaluated on every `/readyz` request. */
  Readiness,
} from "./readiness.ts";
export type { CheckResult, CheckStatus, ReadinessCheck } from "./readiness.ts";
export {
  /** Binds the admin HTTP endpoint and serves `/metrics`, `/healthz` and `/readyz`. */
  startAdminServer,
} from "./admin_server.ts";
export type { AdminServer, AdminServerOptions } from "./admin_server.ts";
export {
  /** `/api/v1/<name>` serves the endpoint `<name>`. */
  API_PREFIX,
  /** A request the API refuses, with its HTTP status and the body field at fault. */
  ApiError,
  /** Whether an `Authorization` header carries the token (constant-time comparison). */
  bearerMatches,
  /** Request bodies larger than this are refused (413). */
  MAX_BODY_BYTES,
} from "./admin_api.ts";
export type { AdminApi, ApiEndpoint, ApiHandler, ApiRequest } from "./admin_api.ts";
