/**
 * The QUIC face of Gatehouse: the listener, the per-connection pipeline and TLS material.
 *
 * @module
 */

/** A running router; `GatehouseServer.start(config, options)`. */
export { formatAddr, GatehouseServer, ListenError } from "./server.ts";
export type { ServerOptions } from "./server.ts";
/** Live reload: what `GatehouseServer.reload` did, and how it is logged. */
export { logReloadResult, RETIRE_WAIT_MS } from "./reload.ts";
export type { DiscoveryChanges, PluginChanges, ReloadResult } from "./reload.ts";
/** Certificate loading and development self-signed certificates. */
export { generateSelfSigned, loadTlsMaterial, TlsError } from "./tls.ts";
export type { TextFileReader, TlsMaterial } from "./tls.ts";
/** `hytale/*` → the concrete ALPN list the listener advertises. */
export { expandAlpn } from "./alpn.ts";
/** Localized player-facing Disconnect texts. */
export { DisconnectTexts } from "./messages.ts";
export type { MessageVars } from "./messages.ts";
/** How long the server waits for a client to close after the reply. */
export { CLOSE_WAIT_MS } from "./connection.ts";
/** Bounded waits and a quiet QUIC close, shared with the CLI's client side. */
export { closeQuietly, settleWithin, TIMED_OUT, withinMs } from "./timing.ts";
/** Who may connect: `access` lists, handshake rate, per-prefix and total connection limits. */
export {
  Admission,
  ADMISSION_CLOSE_CODE,
  DEFAULT_MAX_IDLE_PREFIXES,
  DEFAULT_MAX_PENDING,
  REFUSAL_TEXTS,
} from "./admission.ts";
export type {
  AdmissionOptions,
  AdmissionSettings,
  AdmitResult,
  Admitted,
  ArriveResult,
  Pending,
  Refused,
} from "./admission.ts";
