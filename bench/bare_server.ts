/**
 * The baseline for the router benchmark: a bare QUIC server that does the least a router must
 * do per connection, with the router's close discipline, and nothing else (no config, no
 * decoding, no routing, no HMAC, no logging).
 *
 * Per connection: accept → first bidirectional stream → read one whole frame → write a fixed
 * ClientReferral frame (the size of Gatehouse's usual reply) → close the writer → wait for the
 * client to close the connection (capped, like `src/server/connection.ts`) → close.
 *
 * Prints `{"port":N}` as one JSON line on stdout once it accepts connections; stops on SIGTERM,
 * SIGINT, or when stdin reaches end of file (so it dies with the benchmark that spawned it).
 *
 *   deno run --unstable-net --allow-net=127.0.0.1 bench/bare_server.ts [--port 0]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { CLOSE_WAIT_MS, expandAlpn, generateSelfSigned } from "../src/server/mod.ts";

/** Largest first-frame payload read (the router's cap is 16 KiB as well). */
const MAX_PAYLOAD = 16 * 1024;
const HEADER_BYTES = 8;
/** The router's default `quic.max_idle_timeout` and `limits.connect_timeout`. */
const IDLE_TIMEOUT_MS = 30_000;
const CONNECT_TIMEOUT_MS = 5_000;

/**
 * ClientReferral (packet 18) to host `play.example.com` port 5520 whose data is a signed,
 * empty referral envelope (HYRP v1, key id 1, 32 zero bytes standing in for the HMAC): the same
 * 78 bytes on the wire as Gatehouse's reply under `bench/config.bench.yaml`.
 */
export const REPLY_FRAME: Uint8Array = buildReply("play.example.com", 5520);

function buildReply(host: string, port: number): Uint8Array {
  const hostBytes = new TextEncoder().encode(host);
  const envelope = new Uint8Array(9 + 32);
  envelope.set([0x48, 0x59, 0x52, 0x50, 1, 0x01, 1, 0, 0]); // "HYRP", v1, signed, key 1, len 0
  const hostAddrLen = 2 + 1 + hostBytes.length; // u16le port, VarInt length (< 128), host
  const payloadLen = 9 + hostAddrLen + 1 + envelope.length;
  const out = new Uint8Array(HEADER_BYTES + payloadLen);
  const view = new DataView(out.buffer);
  view.setUint32(0, payloadLen, true);
  view.setUint32(4, 18, true);
  let at = HEADER_BYTES;
  out[at++] = 0x03; // null_bits: host and data present
  view.setInt32(at, 0, true); // host offset
  view.setInt32(at + 4, hostAddrLen, true); // data offset, relative to the variable block
  at += 8;
  view.setUint16(at, port, true);
  out[at + 2] = hostBytes.length;
  out.set(hostBytes, at + 3);
  at += hostAddrLen;
  out[at++] = envelope.length;
  out.set(envelope, at);
  return out;
}

/** Serves one connection; never throws, always ends with the connection closed. */
async function serve(incoming: Deno.QuicIncoming): Promise<boolean> {
  let conn: Deno.QuicConn;
  try {
    conn = await incoming.accept();
  } catch {
    return false;
  }
  // One timer bounds the wait for the Connect, as `limits.connect_timeout` does in the router.
  const timer = setTimeout(() => closeQuietly(conn), CONNECT_TIMEOUT_MS);
  try {
    const stream = await firstBidiStream(conn);
    if (stream === null || !(await readOneFrame(stream.readable))) return false;
    clearTimeout(timer);
    const writer = stream.writable.getWriter();
    await writer.write(REPLY_FRAME);
    await writer.close();
    await closedWithin(conn, CLOSE_WAIT_MS);
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
    closeQuietly(conn);
  }
}

async function firstBidiStream(conn: Deno.QuicConn): Promise<Deno.QuicBidirectionalStream | null> {
  const streams = conn.incomingBidirectionalStreams.getReader();
  try {
    const next = await streams.read();
    return next.done ? null : next.value;
  } finally {
    streams.releaseLock();
  }
}

/** Reads until one whole frame has arrived; false if the stream ended or the frame is absurd. */
async function readOneFrame(readable: ReadableStream<Uint8Array>): Promise<boolean> {
  const reader = readable.getReader();
  const buf = new Uint8Array(HEADER_BYTES + MAX_PAYLOAD);
  let have = 0;
  let need = HEADER_BYTES;
  try {
    while (have < need) {
      const { value, done } = await reader.read();
      if (done) return false;
      if (have + value.length > buf.length) return false;
      buf.set(value, have);
      have += value.length;
      if (need === HEADER_BYTES && have >= HEADER_BYTES) {
        const len = new DataView(buf.buffer).getInt32(0, true);
        if (len < 0 || len > MAX_PAYLOAD) return false;
        need = HEADER_BYTES + len;
      }
    }
    return true;
  } finally {
    // Like the router: leave the client's half of the stream alone once the frame is read.
    reader.releaseLock();
  }
}

async function closedWithin(conn: Deno.QuicConn, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    conn.closed.catch(() => {}),
    new Promise<void>((resolve) => timer = setTimeout(resolve, ms)),
  ]);
  clearTimeout(timer);
}

function closeQuietly(conn: Deno.QuicConn): void {
  try {
    conn.close({ closeCode: 0, reason: "" });
  } catch {
    // Already closed.
  }
}

/** Resolves on SIGTERM, SIGINT or end of stdin, whichever comes first. */
function untilStopped(): Promise<string> {
  return new Promise((resolve) => {
    const signals: Deno.Signal[] = ["SIGTERM", "SIGINT"];
    for (const s of signals) Deno.addSignalListener(s, () => resolve(s));
    (async () => {
      for await (const _ of Deno.stdin.readable) { /* discard */ }
      resolve("stdin closed");
    })().catch(() => resolve("stdin error"));
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      host: { type: "string", default: "127.0.0.1" },
      port: { type: "string", default: "0" },
    },
  });
  const { cert, key } = await generateSelfSigned();
  const endpoint = new Deno.QuicEndpoint({ hostname: values.host, port: Number(values.port) });
  const listener = endpoint.listen({
    alpnProtocols: expandAlpn(["hytale/*"]), // what Gatehouse advertises by default
    cert,
    key,
    maxIdleTimeout: IDLE_TIMEOUT_MS,
  });
  let served = 0;
  let failed = 0;
  const count = (ok: boolean) => ok ? served++ : failed++;
  const acceptLoop = (async () => {
    try {
      // Never read a QuicIncoming's properties: on Deno 2.9.6 that invalidates it.
      for await (const incoming of listener) serve(incoming).then(count);
    } catch {
      // The listener ends when stopped.
    }
  })();
  console.log(JSON.stringify({ port: endpoint.addr.port }));
  const why = await untilStopped();
  // On Deno 2.9.6 `listener.stop()` does not end a pending `for await` over the listener;
  // closing the endpoint does.
  listener.stop();
  endpoint.close({ closeCode: 0, reason: "" });
  await acceptLoop;
  console.error(`bare_server: stopped (${why}); served ${served}, failed ${failed}`);
  Deno.exit(0);
}

if (import.meta.main) await main();
