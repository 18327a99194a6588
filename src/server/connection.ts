import type { DisconnectKind } from "../config/mod.ts";
import type { Logger } from "../observability/mod.ts";
import {
  type ConnectEvent,
  decodeConnect,
  encodeClientReferral,
  encodeDisconnect,
  encodeFrame,
  PacketId,
  ProtocolError,
} from "../protocol/mod.ts";
import type { Decision, RoutingError } from "../routing/mod.ts";
import { readFirstConnect } from "./read_connect.ts";
import type { RuntimeSnapshot } from "./snapshot.ts";
import { settleWithin } from "./timing.ts";

/** How long to wait for the client to close after the reply before closing ourselves. */
export const CLOSE_WAIT_MS = 2_000;

/** How a connection ended; one per connection, logged (and later counted). */
export type OutcomeKind =
  | "referral"
  | "no_route"
  | "no_backends"
  | "discovery_error"
  | "routing_error"
  | "timeout"
  | "closed"
  | "protocol_error";

/** The reply chosen for a Connect, with what the log line needs. */
interface Reply {
  readonly kind: OutcomeKind;
  readonly packet: Uint8Array;
  readonly decision: Decision | null;
  readonly detail: string | null;
}

/** What one connection needs from the server around it. */
export interface ConnectionContext {
  readonly snapshot: RuntimeSnapshot;
  readonly logger: Logger;
  /** The client's address as `ip:port`. */
  readonly remote: string;
  readonly now: () => number;
}

// The RoutingError → player message mapping lives here and only here (CONFIG.md messages).
// `${error}` expands to the short text the Go router's sentinel errors carry, never to our
// internal error message (which names routes and providers and stays in the logs).
const MESSAGE_FOR: Readonly<
  Record<RoutingError["code"], { readonly kind: DisconnectKind; readonly error: string }>
> = {
  no_route: { kind: "no_route", error: "" },
  no_backends: { kind: "no_backends", error: "no backends" },
  discovery: { kind: "discovery_error", error: "discovery error" },
  routing: { kind: "routing_error", error: "routing error" },
};

const EMPTY = new Uint8Array(0);

/**
 * Serves one accepted QUIC connection: read the first Connect → decode → decide → reply →
 * close without losing the reply. Never throws; always ends with the connection closed.
 */
export async function serveConnection(conn: Deno.QuicConn, ctx: ConnectionContext): Promise<void> {
  const started = ctx.now();
  const sni = conn.serverName ?? null;
  drainUnidirectional(conn);
  const first = await readFirstConnect(conn, ctx.snapshot.config.limits.connectTimeoutMs);
  if (first.kind !== "connect") {
    closeQuietly(conn);
    const detail = first.kind === "protocol_error" ? first.error.message : null;
    logOutcome(ctx, started, sni, null, { kind: first.kind, decision: null, detail });
    return;
  }
  const event = decodeConnect(first.payload);
  if (!event) ctx.logger.debug("connect undecodable; routing by SNI alone", { sni: sni ?? "" });
  const reply = await chooseReply(ctx.snapshot, sni, event);
  await sendAndClose(conn, first.writable, reply.packet);
  logOutcome(ctx, started, sni, event, reply);
}

/** Routes the Connect (or the SNI alone when it could not be decoded) and encodes the reply. */
async function chooseReply(
  snap: RuntimeSnapshot,
  sni: string | null,
  event: ConnectEvent | null,
): Promise<Reply> {
  const result = snap.router.decide({
    sni,
    uuid: event?.uuid ?? "",
    username: event?.username ?? "",
  });
  if (!result.ok) {
    const message = MESSAGE_FOR[result.error.code];
    return disconnectReply(snap, message, sni, event, result.error.message);
  }
  const { backend } = result.decision;
  try {
    const envelope = await snap.sealer.seal(EMPTY);
    const payload = encodeClientReferral(backend.host, backend.port, envelope);
    return {
      kind: "referral",
      packet: encodeFrame(PacketId.ClientReferral, payload),
      decision: result.decision,
      detail: null,
    };
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
    return disconnectReply(snap, MESSAGE_FOR.routing, sni, event, err.message);
  }
}

function disconnectReply(
  snap: RuntimeSnapshot,
  message: { readonly kind: DisconnectKind; readonly error: string },
  sni: string | null,
  event: ConnectEvent | null,
  detail: string,
): Reply {
  const vars = { sni: sni ?? "", error: message.error };
  const text = snap.messages.text(message.kind, event?.language ?? "", vars);
  return {
    kind: message.kind,
    packet: encodeFrame(PacketId.Disconnect, encodeDisconnect(text)),
    decision: null,
    detail,
  };
}

/**
 * Writes the reply, closes our side of the stream, then waits (capped) for the client to close
 * the connection. Closing the connection straight after the write discards unsent data on
 * Deno's QUIC, so the client would never see the packet (PROTOCOL.md).
 */
async function sendAndClose(
  conn: Deno.QuicConn,
  writable: WritableStream<Uint8Array>,
  packet: Uint8Array,
): Promise<void> {
  const writer = writable.getWriter();
  try {
    await writer.write(packet);
    await writer.close();
  } catch {
    // The client reset the stream or went away; nothing left to deliver.
  }
  await settleWithin(conn.closed, CLOSE_WAIT_MS);
  closeQuietly(conn);
}

/** Unidirectional streams carry nothing the router needs: read and discard them. */
function drainUnidirectional(conn: Deno.QuicConn): void {
  (async () => {
    for await (const stream of conn.incomingUnidirectionalStreams) {
      stream.pipeTo(new WritableStream()).catch(() => {});
    }
  })().catch(() => {});
}

function closeQuietly(conn: Deno.QuicConn): void {
  try {
    conn.close({ closeCode: 0, reason: "" });
  } catch {
    // Already closed.
  }
}

function logOutcome(
  ctx: ConnectionContext,
  started: number,
  sni: string | null,
  event: ConnectEvent | null,
  reply: Pick<Reply, "kind" | "decision" | "detail">,
): void {
  const { logger } = ctx;
  const fields = {
    outcome: reply.kind,
    sni: sni ?? "",
    client: ctx.snapshot.config.logging.logClientIp ? ctx.remote : undefined,
    route: reply.decision?.route,
    backend: reply.decision
      ? `${reply.decision.backend.host}:${reply.decision.backend.port}`
      : undefined,
    reason: reply.detail ?? undefined,
    ms: Math.round((ctx.now() - started) * 100) / 100,
  };
  const level = reply.kind === "protocol_error" ? "warn" : "info";
  logger[level]("connection", fields);
  if (event && logger.enabled("debug")) {
    // Never the identity token: the decoder keeps only whether one was present.
    logger.debug("connect", {
      sni: sni ?? "",
      layout: event.layout,
      username: event.username,
      uuid: event.uuid,
      language: event.language,
      client_type: event.clientType,
      protocol_hash: event.protocolHash,
      identity_token_present: event.identityTokenPresent,
    });
  }
}
