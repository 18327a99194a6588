/**
 * The QUIC face of Gatehouse: the listener, the per-connection pipeline and TLS material.
 *
 * @module
 */

/** A running router; `GatehouseServer.start(config, options)`. */
export { formatAddr, GatehouseServer } from "./server.ts";
export type { ServerOptions } from "./server.ts";
/** What the admin API shows of the routes, live backends and plugins (`GatehouseServer.views`). */
export type {
  BackendView,
  DiscoveryView,
  PluginView,
  RouterViews,
  RouteView,
} from "./admin_views.ts";
/** What the server reads of the operator's maintenance mode and drains, per connection. */
export { NO_CONTROLS } from "./controls.ts";
export type { MaintenanceGate, RuntimeControls } from "./controls.ts";
/**
 * Explain: the decision a player with given facts would get now, step by step
 * (`GatehouseServer.explain`, the admin API's `POST /api/v1/explain`, `gatehouse explain`).
 */
export {
  explainDecision,
  ExplainInputError,
  MAX_SNI_BYTES,
  NIL_UUID,
  parseExplainRequest,
} from "./explain.ts";
export type {
  ExplainContext,
  ExplainedAnswer,
  ExplainedAttempt,
  ExplainedBackend,
  ExplainedPlugin,
  ExplainedReply,
  ExplainRequest,
  Explanation,
} from "./explain.ts";
/**
 * A config's compiled rules, plugins and discovery, built and closed outside a running server
 * (offline `gatehouse explain`).
 */
export { buildSnapshot, closeSnapshot } from "./snapshot.ts";
export type { RuntimeSnapshot, SnapshotDeps } from "./snapshot.ts";
/** The Disconnect texts of one config, per outcome and language (`RuntimeSnapshot.messages`). */
export type { DisconnectTexts, MessageVars } from "./messages.ts";
/** Live reload: what `GatehouseServer.reload` did, and how it is logged. */
export { logReloadResult } from "./reload.ts";
export type { DiscoveryChanges, PluginChanges, ReloadResult } from "./reload.ts";
/** Development self-signed certificates. */
export { generateSelfSigned } from "./tls.ts";
export type { TlsMaterial } from "./tls.ts";
/** `hytale/*` → the concrete ALPN list the listener advertises. */
export { expandAlpn } from "./alpn.ts";
/** How long the server waits for a client to close after the reply. */
export { CLOSE_WAIT_MS } from "./connection.ts";
/** Bounded waits and a quiet QUIC close, shared with the CLI's client side. */
export { closeQuietly, settleWithin, TIMED_OUT, withinMs } from "./timing.ts";
/** Who may connect: `access` lists, handshake rate, per-prefix and total connection limits. */
export { Admission } from "./admission.ts";
export type {
  AdmissionOptions,
  AdmissionSettings,
  AdmitResult,
  Admitted,
  ArriveResult,
  Pending,
  Refused,
} from "./admission.ts";
