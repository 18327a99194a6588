import type { DecisionLog, Logger, Metrics } from "../observability/mod.ts";
import { type ConnectEvent, decodeConnect } from "../protocol/mod.ts";
import type { PluginVerdict } from "../plugins/mod.ts";
import type { RuntimeControls } from "./controls.ts";
import { readFirstConnect } from "./read_connect.ts";
import { chooseReply, type Reply } from "./reply.ts";
import type { RuntimeSnapshot } from "./snapshot.ts";
import { closeQuietly, settleWithin } from "./timing.ts";

/** How long to wait for the client to close after the reply before closing ourselves. */
export const CLOSE_WAIT_MS = 2_000;

/** What one connection needs from the server around it. */
export interface ConnectionContext {
  readonly snapshot: RuntimeSnapshot;
  readonly logger: Logger;
  /** The client's address as `ip:port`; `null` when the log lines will not show it. */
  readonly remote: string | null;
  /** The client's address for the plugins (`ip:port`); `""` when no plugin is configured. */
  readonly client: string;
  /** The client's IP as the server read it at accept (maintenance bypass by CIDR). */
  readonly ip: string;
  /** Maintenance mode and drained backends now. */
  readonly controls: RuntimeControls;
  /** Gets a record of each decision (the admin API's decisions and events). */
  readonly decisions: DecisionLog;
  readonly now: () => number;
  /** Counts the outcome and the decision and reply latencies. */
  readonly metrics: Metrics;
}

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
  const verdicts: PluginVerdict[] | undefined = ctx.snapshot.chain.empty ? undefined : [];
  const { snapshot, controls, logger, ip } = ctx;
  const reply = await chooseReply({ snapshot, controls, logger, sni, event, client, ip, verdicts });
  const decisionMs = ctx.now() - deciding;
  ctx.metrics.decision(decisionMs);
  record(ctx, sni, event, reply, verdicts, decisionMs);
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

/** Adds the decision to the admin API's ring (client address only when it is logged). */
function record(
  ctx: ConnectionContext,
  sni: string | null,
  event: ConnectEvent | null,
  reply: Reply,
  verdicts: readonly PluginVerdict[] | undefined,
  durationMs: number,
): void {
  ctx.decisions.record({
    at: Date.now(),
    sni: sni ?? "",
    username: event?.username ?? "",
    uuid: event?.uuid ?? "",
    route: reply.route,
    backend: reply.backend,
    outcome: reply.kind,
    plugins: verdicts?.map(({ plugin, verdict, ms, error }) =>
      error === undefined
        ? { plugin, verdict, ms: round(ms) }
        : { plugin, verdict, ms: round(ms), error }
    ) ?? [],
    durationMs,
    client: ctx.remote,
  });
}

/** Tells the plugins that listen (process plugins' `on_disconnect`) how the connection ended. */
function tellPlugins(
  ctx: ConnectionContext,
  end: {
    readonly client: string;
    readonly started: number;
    readonly event: ConnectEvent | null;
    readonly reply: Pick<Reply, "kind" | "route" | "backend" | "detail">;
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
  reply: Pick<Reply, "kind" | "route" | "backend" | "detail">,
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

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
