import type { Backend, DisconnectKind } from "../config/mod.ts";
import type { ConnectionOutcome, Logger, Metrics } from "../observability/mod.ts";
import {
  type ConnectEvent,
  decodeConnect,
  encodeClientReferral,
  encodeDisconnect,
  encodeFrame,
  PacketId,
  ProtocolError,
} from "../protocol/mod.ts";
import type { ChainState } from "../plugins/mod.ts";
import type { DecideResult, RoutingError } from "../routing/mod.ts";
import { readFirstConnect } from "./read_connect.ts";
import type { RuntimeSnapshot } from "./snapshot.ts";
import { closeQuietly, settleWithin } from "./timing.ts";

/** How long to wait for the client to close after the reply before closing ourselves. */
export const CLOSE_WAIT_MS = 2_000;

/** The reply chosen for a Connect, with what the log line needs. */
interface Reply {
  /** How the connection ended; one per connection, logged and counted. */
  readonly kind: ConnectionOutcome;
  readonly packet: Uint8Array;
  /** Route label for the log line, when a route was chosen. */
  readonly route: string | null;
  /** `host:port` referred to. */
  readonly backend: string | null;
  readonly detail: string | null;
}

/** What one connection needs from the server around it. */
export interface ConnectionContext {
  readonly snapshot: RuntimeSnapshot;
  readonly logger: Logger;
  /** The client's address as `ip:port`; `null` when the log lines will not show it. */
  readonly remote: string | null;
  /** The client's address for the plugins (`ip:port`); `""` when no plugin is configured. */
  readonly client: string;
  readonly now: () => number;
  /** Counts the outcome and the decision and reply latencies. */
  readonly metrics: Metrics;
}

// The RoutingError → player message mapping lives here and only here (docs/configuration.md
// §6 "messages").
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

/** The event plugins see when the Connect could not be decoded: only the SNI is known. */
const SNI_ONLY_EVENT: ConnectEvent = {
  layout: "v2",
  protocolHash: "",
  protocolCrc: 0,
  protocolBuildNumber: 0,
  clientVersion: "",
  clientType: 0,
  uuid: "",
  username: "",
  language: "",
  identityTokenPresent: false,
  referralDataLength: 0,
  referralSource: null,
};

/**
 * Serves one accepted QUIC connection: read the first Connect → decode → decide → plugins →
 * reply → close without losing the reply. Never throws; always ends with the connection closed.
 *
 * Only the first bidirectional stream is read: the listener lets a client open that one and no
 * unidirectional stream (`quic_accept.ts`), so nothing else can hold data in the router.
 */
export async function serveConnection(conn: Deno.QuicConn, ctx: ConnectionContext): Promise<void> {
  const started = ctx.now();
  const sni = conn.serverName ?? null;
  const { client } = ctx;
  const first = await readFirstConnect(conn, ctx.snapshot.config.limits.connectTimeoutMs);
  if (first.kind !== "connect") {
    closeQuietly(conn);
    const detail = first.kind === "protocol_error" ? first.error.message : null;
    ctx.metrics.outcome(first.kind, null);
    const reply = { kind: first.kind, route: null, backend: null, detail };
    logOutcome(ctx, started, sni, null, reply);
    tellPlugins(ctx, { client, started, event: null, reply, received: 0, sent: 0 });
    return;
  }
  const event = decodeConnect(first.payload);
  if (!event) ctx.logger.debug("connect undecodable; routing by SNI alone", { sni: sni ?? "" });
  const deciding = ctx.now();
  const reply = await chooseReply(ctx, sni, event, client);
  ctx.metrics.decision(ctx.now() - deciding);
  await sendAndClose(
    conn,
    first.writable,
    reply.packet,
    () => ctx.metrics.reply(ctx.now() - started),
  );
  ctx.metrics.outcome(reply.kind, reply.route);
  logOutcome(ctx, started, sni, event, reply);
  const sent = reply.packet.length;
  tellPlugins(ctx, { client, started, event, reply, received: first.received, sent });
}

/** Tells the plugins that listen (process plugins' `on_disconnect`) how the connection ended. */
function tellPlugins(
  ctx: ConnectionContext,
  end: {
    readonly client: string;
    readonly started: number;
    readonly event: ConnectEvent | null;
    readonly reply: Omit<Reply, "packet">;
    readonly received: number;
    readonly sent: number;
  },
): void {
  const { chain } = ctx.snapshot;
  if (!chain.hearsEnds) return;
  chain.connectionEnded({
    client: end.client,
    target: end.reply.backend ?? "",
    outcome: end.reply.kind,
    rxBytes: end.received,
    txBytes: end.sent,
    durationMs: ctx.now() - end.started,
    username: end.event?.username ?? "",
    uuid: end.event?.uuid ?? "",
  });
}

/**
 * Route → plugins → reply. An undecodable Connect is routed by SNI alone, and the plugins see the
 * SNI alone (so a garbage payload cannot bypass a deny plugin).
 */
async function chooseReply(
  ctx: ConnectionContext,
  sni: string | null,
  event: ConnectEvent | null,
  client: string,
): Promise<Reply> {
  const snap = ctx.snapshot;
  // Immediate, except for pools that allocate a game server per connection (bounded).
  const result = await snap.router.decide({
    sni,
    uuid: event?.uuid ?? "",
    username: event?.username ?? "",
  });
  const route = result.ok ? result.decision.route : result.error.route;
  let state = initialState(result);
  if (!snap.chain.empty) {
    // An undecodable Connect still goes through the plugins (with the SNI alone), so deny
    // plugins and failure_policy deny cannot be bypassed with a garbage payload.
    // Structured transports (process plugins) also get the address and the matched pattern.
    const context = { client, route: result.ok ? result.decision.matched : null };
    const outcome = await snap.chain.apply(sni ?? "", event ?? SNI_ONLY_EVENT, state, context);
    if (outcome.kind === "deny") return denyReply(snap, outcome, sni, event, route);
    state = outcome.state;
  }
  if (!state.backend || state.backend.host === "") {
    // As the Go router: plugins that leave no backend after a successful route mean no_route.
    const failure = result.ok
      ? { code: "no_route" as const, message: "the plugins left no backend" }
      : result.error;
    return disconnectReply(snap, MESSAGE_FOR[failure.code], sni, event, failure.message, route);
  }
  return await referralReply(ctx, state.backend, state.referralContent, sni, event, route);
}

/** The chain's starting state: the routing decision, or nothing selected when routing failed. */
function initialState(result: DecideResult): ChainState {
  if (!result.ok) {
    return {
      strategy: "",
      candidates: [],
      selectedIndex: -1,
      backend: null,
      referralContent: EMPTY,
    };
  }
  const d = result.decision;
  return {
    // Plugins see the pool's own strategy, as the Go router reports it.
    strategy: d.poolStrategy,
    candidates: d.candidates,
    selectedIndex: d.selectedIndex,
    backend: d.backend,
    referralContent: EMPTY,
  };
}

async function referralReply(
  ctx: ConnectionContext,
  backend: Backend,
  content: Uint8Array,
  sni: string | null,
  event: ConnectEvent | null,
  route: string | null,
): Promise<Reply> {
  const snap = ctx.snapshot;
  try {
    const envelope = await seal(ctx, content);
    const payload = encodeClientReferral(backend.host, backend.port, envelope);
    return {
      kind: "referral",
      packet: encodeFrame(PacketId.ClientReferral, payload),
      route,
      backend: `${backend.host}:${backend.port}`,
      detail: null,
    };
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
    return disconnectReply(snap, MESSAGE_FOR.routing, sni, event, err.message, route);
  }
}

/** Seals the referral content; content that cannot fit is logged and replaced by none. */
async function seal(ctx: ConnectionContext, content: Uint8Array): Promise<Uint8Array> {
  try {
    return await ctx.snapshot.sealer.seal(content);
  } catch (err) {
    if (!(err instanceof ProtocolError) || err.code !== "envelope_too_large") throw err;
    ctx.logger.warn("referral content dropped", { error: err.message, bytes: content.length });
    return await ctx.snapshot.sealer.seal(EMPTY);
  }
}

function denyReply(
  snap: RuntimeSnapshot,
  outcome: { readonly plugin: string; readonly reason: string | null },
  sni: string | null,
  event: ConnectEvent | null,
  route: string | null,
): Reply {
  // A plugin's deny_reason is meant for the player; a failure-policy deny is not, so it gets
  // the configured routing_error text instead of internal error detail.
  const detail = outcome.reason === null
    ? `plugin "${outcome.plugin}" failed (failure_policy deny)`
    : `denied by plugin "${outcome.plugin}"`;
  if (outcome.reason !== null) {
    try {
      const packet = encodeFrame(PacketId.Disconnect, encodeDisconnect(outcome.reason));
      return { kind: "deny", packet, route, backend: null, detail };
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      // A reason too long for a Disconnect: the player gets the routing_error text instead.
    }
  }
  const reply = disconnectReply(snap, MESSAGE_FOR.routing, sni, event, detail, route);
  return { ...reply, kind: "deny" };
}

function disconnectReply(
  snap: RuntimeSnapshot,
  message: { readonly kind: DisconnectKind; readonly error: string },
  sni: string | null,
  event: ConnectEvent | null,
  detail: string,
  route: string | null,
): Reply {
  const vars = { sni: sni ?? "", error: message.error };
  const text = snap.messages.text(message.kind, event?.language ?? "", vars);
  return {
    kind: message.kind,
    packet: encodeFrame(PacketId.Disconnect, encodeDisconnect(text)),
    route,
    backend: null,
    detail,
  };
}

/**
 * Writes the reply (calling `written` once QUIC took it), closes our side of the stream, then
 * waits (capped) for the client to close the connection. Closing the connection straight after
 * the write discards unsent data on Deno's QUIC, so the client would never see the packet
 * (docs/protocol.md §8 "Connection outcome").
 */
async function sendAndClose(
  conn: Deno.QuicConn,
  writable: WritableStream<Uint8Array>,
  packet: Uint8Array,
  written: () => void,
): Promise<void> {
  const writer = writable.getWriter();
  const finished = (async () => {
    await writer.write(packet);
    written();
    await writer.close();
    await conn.closed;
  })();
  // One cap over write, FIN and the client's close: a client that never opens its receive
  // window cannot hold the connection either (closing it abandons the pending write). A
  // failed write (the client reset the stream or left) settles at once.
  await settleWithin(finished, CLOSE_WAIT_MS);
  closeQuietly(conn);
}

function logOutcome(
  ctx: ConnectionContext,
  started: number,
  sni: string | null,
  event: ConnectEvent | null,
  reply: Omit<Reply, "packet">,
): void {
  const { logger } = ctx;
  const level = reply.kind === "protocol_error" ? "warn" : "info";
  if (!logger.enabled(level)) return;
  const fields = {
    outcome: reply.kind,
    sni: sni ?? "",
    client: ctx.remote ?? undefined,
    route: reply.route ?? undefined,
    backend: reply.backend ?? undefined,
    reason: reply.detail ?? undefined,
    ms: Math.round((ctx.now() - started) * 100) / 100,
  };
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
