/**
 * How a QUIC connection attempt becomes a connection: the transport limits the listener
 * advertises, and an accept path on which the client's address is known before the handshake
 * completes, so that a refused client costs as little as the runtime allows.
 *
 * What Deno 2.9.6 (quinn 0.11) allows, from `ext/net/quic.rs` and probes against 2.9.6:
 *
 * - Every `QuicIncoming` getter (`remoteAddr`, `localIp`, `remoteAddressValidated`) `take()`s the
 *   native `quinn::Incoming` and drops it, and quinn refuses a dropped `Incoming`: reading the
 *   address of an attempt is a refusal (the client sees "the server refused to accept a new
 *   connection"; a later `accept()`/`refuse()`/`ignore()` throws `BadResource`). `refuse()` and
 *   `ignore()` are the only cheap answers, and they cannot depend on the address (the server
 *   uses `refuse()` while `limits.max_connections` are open). Neither `QuicEndpoint` nor
 *   `listen()` offers an earlier hook (no address filter, no Retry).
 * - `accept({ zeroRtt: true })` returns the `QuicConn` synchronously (0.5-RTT), right after quinn
 *   has processed the ClientHello; its `remoteAddr` is then readable without side effects and
 *   `close()` ends it before the client's Finished. The server's half of TLS (key exchange,
 *   certificate signature, first flight) has run by then — that is the floor of a refusal that
 *   depends on the address.
 * - A close before the handshake completes goes out in the Initial/Handshake packet spaces, where
 *   RFC 9000 §10.2.3 turns an application close into a transport `APPLICATION_ERROR` without
 *   code or reason: the refused client sees "the application or application protocol caused the
 *   connection to be closed", never our close code.
 * - `conn.handshake` of a 0.5-RTT connection resolves when the handshake ends, also when it
 *   failed; `conn.closed` then settles in the same batch of completed ops (measured), which
 *   {@link handshakeDone} relies on.
 * - Of quinn's transport settings only stream counts, idle timeout, keep-alive, congestion
 *   control and preferred addresses reach JavaScript. The receive windows are quinn's defaults
 *   (1.25 MB per stream, no connection-wide limit), and so is the 1.25 MB buffer for received
 *   QUIC datagrams, which {@link discardDatagrams} keeps empty.
 *
 * @module
 */

import { closeQuietly } from "./timing.ts";

/**
 * Streams a client may open at once. The router reads one bidirectional stream (the Connect and
 * the reply); any other stream a client opens could be filled up to its 1.25 MB receive window
 * and left there. quinn grants a new bidirectional stream only once the first is closed both
 * ways, i.e. after the reply. One unidirectional stream at a time, because docs/protocol.md §1
 * lets a client open them ("they carry nothing the router needs and must not break it") and a
 * client over the limit fails at once (Deno: `RangeError`); {@link discardUniStreams} drains it.
 */
export const TRANSPORT_LIMITS = {
  maxConcurrentBidirectionalStreams: 1,
  maxConcurrentUnidirectionalStreams: 1,
} as const satisfies Deno.QuicTransportOptions;

/**
 * Bytes read and dropped from a connection's unidirectional streams, all together; past it each
 * stream is stopped (STOP_SENDING), so quinn drops what still arrives instead of buffering it.
 */
export const UNI_STREAM_BUDGET = 64 * 1024;

/**
 * Accepts `incoming` at 0.5-RTT: the connection exists and its `remoteAddr` is readable as soon
 * as this returns, while the client still has its Finished to send. Throws when quinn refuses
 * the attempt outright (e.g. no common ALPN).
 */
export function acceptEarly(incoming: Deno.QuicIncoming): Deno.QuicConn {
  return incoming.accept({ zeroRtt: true });
}

/**
 * Whether the handshake of a connection from {@link acceptEarly} completed within `timeoutMs`
 * (`limits.connect_timeout`: a client that stalls its handshake would otherwise hold its
 * admission slot until the idle timeout); one that did not is closed. A failed handshake usually
 * reports `false` here (its `closed` settles in the same op batch as `handshake`); if not, the
 * first stream read fails and the connection ends as `closed`.
 */
export async function handshakeDone(conn: Deno.QuicConn, timeoutMs: number): Promise<boolean> {
  let closed = false;
  conn.closed.then(() => closed = true, () => closed = true);
  // Closing the connection also settles `handshake`.
  const timer = setTimeout(() => closeQuietly(conn), timeoutMs);
  try {
    await conn.handshake;
  } finally {
    clearTimeout(timer);
  }
  // One more turn of the microtask queue lets the `closed` handler above run if its op
  // completed with the handshake's.
  await null;
  return !closed;
}

/**
 * Reads and drops every QUIC datagram the client sends until the connection ends (the router
 * needs none, and quinn would otherwise buffer up to 1.25 MB of them per connection). Resolves
 * once the connection is closed; await it after closing so no read is left pending.
 */
export async function discardDatagrams(conn: Deno.QuicConn): Promise<void> {
  try {
    while (true) await conn.readDatagram();
  } catch {
    // The connection ended.
  }
}

/**
 * Reads and drops what the client sends on unidirectional streams, up to
 * {@link UNI_STREAM_BUDGET} bytes per connection, and stops every stream after that; resolves
 * once the connection is closed (await it after closing, as {@link discardDatagrams}). Reading
 * frees the stream's receive window as data arrives, so nothing sits in quinn's buffers.
 */
export async function discardUniStreams(conn: Deno.QuicConn): Promise<void> {
  const budget = { left: UNI_STREAM_BUDGET };
  const drains: Promise<void>[] = [];
  try {
    for await (const stream of conn.incomingUnidirectionalStreams) {
      drains.push(drain(stream, budget));
    }
  } catch {
    // The connection ended.
  }
  await Promise.all(drains);
}

async function drain(stream: ReadableStream<Uint8Array>, budget: { left: number }): Promise<void> {
  const reader = stream.getReader();
  try {
    while (budget.left > 0) {
      const { done, value } = await reader.read();
      if (done) return;
      budget.left -= value.byteLength;
    }
    await reader.cancel();
  } catch {
    // Reset by the client, or the connection ended.
  }
}
