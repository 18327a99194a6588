/**
 * One unary call: deadline (local timer plus `grpc-timeout` for the server), a transparent
 * retry of attempts the server provably never processed, and the mapping of every ending to the
 * transport contract — bytes, or a `PluginError` of the fitting kind.
 */
import type { PluginErrorKind } from "../../observability/mod.ts";
import { PluginError } from "../transport.ts";
import type { Acquired, Channel } from "./channel.ts";
import type { Watchdog } from "../watchdog.ts";
import type { H2Connection, StreamHandle } from "./connection.ts";
import {
  type CallStatus,
  frameMessage,
  GrpcStatus,
  type RequestHeaders,
  statusText,
  unframeMessage,
} from "./grpc_wire.ts";
import type { StreamOutcome } from "./stream.ts";

/** What every call of one plugin shares. */
export interface CallTarget {
  readonly plugin: string;
  readonly channel: Channel;
  /** The method's request headers, encoded once. */
  readonly headers: RequestHeaders;
  /** Keeps the plugin's call deadlines (one timer for all calls). */
  readonly watchdog: Watchdog;
  readonly now: () => number;
}

// A refused attempt (GOAWAY above its stream id, REFUSED_STREAM, connection closing before the
// headers left) is retried on a fresh connection; a few tries cover a server restart race.
const MAX_ATTEMPTS = 3;

/**
 * Runs one call; settles within `timeoutMs` plus timer latency. Longer than most functions here:
 * one closure scope holds the call's state, and its small steps (attempt → start → outcome) are
 * plain callbacks so the hot path allocates no promise chain.
 */
export function unaryCall(
  target: CallTarget,
  request: Uint8Array,
  timeoutMs: number,
): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const deadlineAt = target.now() + timeoutMs;
    const body = frameMessage(request);
    let settled = false;
    let stream: StreamHandle | null = null;
    let conn: H2Connection | null = null;
    let attempts = 0;

    const fail = (kind: PluginErrorKind, message: string): void => {
      if (settled) return;
      settled = true;
      deadline.clear();
      reject(new PluginError(target.plugin, kind, message));
    };
    const deadline = target.watchdog.arm(timeoutMs, () => {
      fail("timeout", `no answer within ${timeoutMs} ms`);
      stream?.cancel(); // after settling: the cancellation's own outcome is then ignored
      conn?.probe(); // a slow server answers the PING at once; a vanished one never does
    });

    const onOutcome = (outcome: StreamOutcome): void => {
      if (settled) return;
      stream = null;
      if (outcome.kind === "refused" && attempts < MAX_ATTEMPTS) return attempt();
      if (outcome.kind !== "response") {
        const kind = outcome.kind === "malformed" ? "bad_response" : "unavailable";
        return fail(kind, outcome.reason);
      }
      const result = responseResult(outcome.status, outcome.body);
      if (result instanceof Uint8Array) {
        settled = true;
        deadline.clear();
        resolve(result);
      } else {
        fail(result.kind, result.message);
      }
    };

    const start = (acquired: Acquired): void => {
      if (settled) return;
      if (!acquired.ok) return fail("unavailable", acquired.reason);
      const remaining = Math.max(1, deadlineAt - target.now());
      try {
        conn = acquired.conn;
        stream = conn.startStream(target.headers.block(remaining), body, onOutcome);
      } catch (err) {
        // Not expected; but a throw here would otherwise escape as an unhandled rejection.
        fail("unavailable", `cannot start the call: ${err instanceof Error ? err.message : err}`);
      }
    };

    const attempt = (): void => {
      attempts += 1;
      const acquired = target.channel.acquire();
      if ("then" in acquired) acquired.then(start);
      else start(acquired);
    };

    attempt();
  });
}

function responseResult(
  status: CallStatus,
  body: Uint8Array,
): Uint8Array | { kind: PluginErrorKind; message: string } {
  if (status.code === GrpcStatus.OK) {
    const message = unframeMessage(body);
    if (message instanceof Uint8Array) return message;
    return { kind: "bad_response", message: `response message ${message}` };
  }
  const text = `grpc status ${statusText(status.code)}${
    status.message ? `: ${status.message}` : ""
  }`;
  return { kind: statusKind(status.code), message: text };
}

// DEADLINE_EXCEEDED is the server's view of our deadline; UNAVAILABLE-like codes mean "not now";
// any other status is the plugin's own failure, the out-of-process analogue of a trap.
function statusKind(code: number): PluginErrorKind {
  switch (code) {
    case GrpcStatus.DEADLINE_EXCEEDED:
      return "timeout";
    case GrpcStatus.UNAVAILABLE:
    case GrpcStatus.CANCELLED:
    case 8: // RESOURCE_EXHAUSTED
      return "unavailable";
    default:
      return "trap";
  }
}
