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
