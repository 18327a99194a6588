/**
 * The decision step of the connection pipeline: maintenance gate → route → plugins → the reply
 * packet. Pure of I/O on the connection, so the admin API's explain runs the very same step a
 * player's Connect does (docs/operations.md §5.4).
 */
import type { Backend, DisconnectKind } from "../config/mod.ts";
import type { ConnectionOutcome, Logger } from "../observability/mod.ts";
import {
  type ConnectEvent,
  encodeClientReferral,
  encodeDisconnect,
  encodeFrame,
  PacketId,
  ProtocolError,
} from "../protocol/mod.ts";
import type { ChainState, PluginVerdict } from "../plugins/mod.ts";
import {
  backendKey,
  type DecideResult,
  type RouteRequest,
  type RoutingError,
} from "../routing/mod.ts";
import type { RuntimeControls } from "./controls.ts";
import type { RuntimeSnapshot } from "./snapshot.ts";

/** The reply chosen for a Connect, with what the log line and the decision record need. */
export interface Reply {
  /** How the connection ended; one per connection, logged and counted. */
  readonly kind: ConnectionOutcome;
  /** The framed ClientReferral or Disconnect. */
  readonly packet: Uint8Array;
  /** Route label for the log line, when a route was chosen. */
  readonly route: string | null;
  /** `host:port` referred to. */
  readonly backend: string | null;
  /** Why it was not a referral, for the log line (never sent to the player). */
  readonly detail: string | null;
  /** The Disconnect text the player gets; `null` for a referral. */
  readonly text: string | null;
}

/** What choosing a reply needs. */
export interface ReplyInput {
  /** The rules in force for this connection. */
  readonly snapshot: RuntimeSnapshot;
  /** Maintenance mode and drains now. */
  readonly controls: RuntimeControls;
  /** Gets a warning when referral content is dropped. */
  readonly logger: Logger;
  /** TLS server name, `null` when the client sent none. */
  readonly sni: string | null;
  /** The decoded Connect; `null` when it could not be decoded (routed by SNI alone). */
  readonly event: ConnectEvent | null;
  /** The client's address for the plugins (`ip:port`), `""` when no plugin needs it. */
  readonly client: string;
  /** The client's IP for maintenance bypass lists; `null` when unknown. */
  readonly ip: string | null;
  /** Gets one verdict per plugin, when given. */
  readonly verdicts?: PluginVerdict[] | undefined;
  /** Keeps the plugin calls out of the metrics (explain); default `false`. */
  readonly unobserved?: boolean;
  /** Decides instead of `snapshot.router` (explain traces the decision). */
  readonly decide?: (request: RouteRequest) => DecideResult | Promise<DecideResult>;
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
 * Maintenance gate → route → plugins → reply. An undecodable Connect is routed by SNI alone, and
 * the plugins see the SNI alone (so a garbage payload cannot bypass a deny plugin). Throws only
 * on a bug.
 */
export async function chooseReply(input: ReplyInput): Promise<Reply> {
  const { snapshot: snap, sni, event } = input;
  const gate = input.controls.maintenance;
  if (gate.enabled && !gate.bypassed({ ...identity(event), ip: input.ip })) {
    const text = gate.message(event?.language ?? "");
    return disconnect("maintenance", text, null, "maintenance mode");
  }
  // Immediate, except for pools that allocate a game server per connection (bounded).
  const result = await (input.decide ?? snap.router.decide)({ sni, ...identity(event) });
  const route = result.ok ? result.decision.route : result.error.route;
  let state = initialState(result);
  if (!snap.chain.empty) {
    // An undecodable Connect still goes through the plugins (with the SNI alone), so deny
    // plugins and failure_policy deny cannot be bypassed with a garbage payload.
    // Structured transports (process plugins) also get the address and the matched pattern.
    const context = { client: input.client, route: result.ok ? result.decision.matched : null };
    const outcome = await snap.chain.apply(
      sni ?? "",
      event ?? SNI_ONLY_EVENT,
      state,
      context,
      input.verdicts,
      input.unobserved !== true,
    );
    if (outcome.kind === "deny") return denyReply(input, outcome, route);
    state = outcome.state;
  }
  if (!state.backend || state.backend.host === "") {
    // As the Go router: plugins that leave no backend after a successful route mean no_route.
    const failure = result.ok
      ? { code: "no_route" as const, message: "the plugins left no backend" }
      : result.error;
    return disconnectReply(input, MESSAGE_FOR[failure.code], failure.message, route);
  }
  return referralReply(input, state.backend, state.referralContent, route);
}

function identity(event: ConnectEvent | null): { uuid: string; username: string } {
  return { uuid: event?.uuid ?? "", username: event?.username ?? "" };
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

function referralReply(
  input: ReplyInput,
  backend: Backend,
  content: Uint8Array,
  route: string | null,
): Reply {
  try {
    const envelope = seal(input, content);
    const payload = encodeClientReferral(backend.host, backend.port, envelope);
    return {
      kind: "referral",
      packet: encodeFrame(PacketId.ClientReferral, payload),
      route,
      backend: backendKey(backend),
      detail: null,
      text: null,
    };
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
    return disconnectReply(input, MESSAGE_FOR.routing, err.message, route);
  }
}

/** Seals the referral content; content that cannot fit is logged and replaced by none. */
function seal(input: ReplyInput, content: Uint8Array): Uint8Array {
  const { sealer } = input.snapshot;
  try {
    return sealer.seal(content);
  } catch (err) {
    if (!(err instanceof ProtocolError) || err.code !== "envelope_too_large") throw err;
    input.logger.warn("referral content dropped", { error: err.message, bytes: content.length });
    return sealer.seal(EMPTY);
  }
}

function denyReply(
  input: ReplyInput,
  outcome: { readonly plugin: string; readonly reason: string | null },
  route: string | null,
): Reply {
  // A plugin's deny_reason is meant for the player; a failure-policy deny is not, so it gets
  // the configured routing_error text instead of internal error detail.
  const detail = outcome.reason === null
    ? `plugin "${outcome.plugin}" failed (failure_policy deny)`
    : `denied by plugin "${outcome.plugin}"`;
  if (outcome.reason !== null) {
    try {
      return disconnect("deny", outcome.reason, route, detail);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      // A reason too long for a Disconnect: the player gets the routing_error text instead.
    }
  }
  const reply = disconnectReply(input, MESSAGE_FOR.routing, detail, route);
  return { ...reply, kind: "deny" };
}

function disconnectReply(
  input: ReplyInput,
  message: { readonly kind: DisconnectKind; readonly error: string },
  detail: string,
  route: string | null,
): Reply {
  const vars = { sni: input.sni ?? "", error: message.error };
  const text = input.snapshot.messages.text(message.kind, input.event?.language ?? "", vars);
  return disconnect(message.kind, text, route, detail);
}

/** A Disconnect reply carrying `text`; throws `ProtocolError` when the text cannot fit. */
function disconnect(
  kind: ConnectionOutcome,
  text: string,
  route: string | null,
  detail: string,
): Reply {
  const packet = encodeFrame(PacketId.Disconnect, encodeDisconnect(text));
  return { kind, packet, route, backend: null, detail, text };
}
