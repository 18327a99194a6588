/**
 * Starts the real router in-process on a loopback port and talks to it as a Hytale client
 * would, over QUIC. The client side encodes with `hytale_client_codec.ts`, never with `src/`.
 */
import { parseConfig } from "../../src/config/mod.ts";
import type { SourceOpener } from "../../src/discovery/mod.ts";
import { Logger, type Metrics } from "../../src/observability/mod.ts";
import { GatehouseServer } from "../../src/server/mod.ts";
import type { RouterOptions } from "../../src/routing/mod.ts";
import type { TransportFactory } from "../../src/plugins/mod.ts";
import { buildConnectV2, frame, type ReceivedFrame, splitFrames } from "./hytale_client_codec.ts";

/** A router under test plus the log lines it wrote. */
export interface RouterUnderTest {
  readonly port: number;
  readonly logs: string[];
  close(): Promise<void>;
}

/**
 * Starts a router on `yaml` (its `listen` should be `127.0.0.1:0`), counting into `metrics`;
 * discovery providers reach their API through `discoverySources` when given.
 */
export async function startRouter(
  yaml: string,
  routerOptions: RouterOptions = {},
  transports?: TransportFactory,
  metrics?: Metrics,
  discoverySources?: SourceOpener,
): Promise<RouterUnderTest> {
  const config = parseConfig(yaml, "e2e.yaml");
  const logs: string[] = [];
  const logger = new Logger({
    level: "debug",
    format: "json",
    sink: { write: (line) => logs.push(line), now: () => new Date() },
  });
  const server = await GatehouseServer.start(config, {
    logger,
    routerOptions,
    ...(transports ? { transports } : {}),
    ...(metrics ? { metrics } : {}),
    ...(discoverySources ? { discoverySources } : {}),
  });
  return { port: server.addr.port, logs, close: () => server.close(1_000) };
}

/** What a client saw. */
export interface Conversation {
  /** Every byte the router sent on the bidirectional stream before closing it. */
  readonly received: Uint8Array;
  /** Whether the router closed its side of the stream (FIN). */
  readonly finished: boolean;
  /** The negotiated ALPN. */
  readonly alpn: string | undefined;
  /** With `uniFirst`: the router's stream limit kept the client from opening the stream. */
  readonly uniRefused: boolean;
}

/** How a test client behaves. */
export interface ClientScript {
  /** TLS server name; `null` dials the IP with no SNI. */
  readonly sni: string | null;
  /** Chunks written one after another on the bidirectional stream. */
  readonly writes: readonly Uint8Array[];
  readonly alpn?: readonly string[];
  /** Try to open a unidirectional stream and send this first (the router allows none). */
  readonly uniFirst?: Uint8Array;
}

/** Connects, runs `script`, reads until the router closes the stream, then closes. */
export async function converse(port: number, script: ClientScript): Promise<Conversation> {
  const conn = await Deno.connectQuic({
    hostname: "127.0.0.1",
    port,
    // An IP literal as server name makes the client send no SNI.
    serverName: script.sni ?? "127.0.0.1",
    alpnProtocols: [...(script.alpn ?? ["hytale/2"])],
  });
  try {
    const uniRefused = script.uniFirst ? !await sendOnUni(conn, script.uniFirst) : false;
    const stream = await conn.createBidirectionalStream();
    const writer = stream.writable.getWriter();
    for (const chunk of script.writes) await writer.write(chunk);
    const received = await readAll(stream.readable);
    return { ...received, alpn: conn.protocol, uniRefused };
  } finally {
    conn.close({ closeCode: 0, reason: "" });
  }
}

/** Sends `bytes` on a new unidirectional stream; false when the stream limit refused it. */
async function sendOnUni(conn: Deno.QuicConn, bytes: Uint8Array): Promise<boolean> {
  let uni: WritableStream<Uint8Array>;
  try {
    uni = await conn.createUnidirectionalStream();
  } catch (err) {
    // Deno's "maximum number of concurrent outgoing unidirectional streams" (MAX_STREAMS 0).
    if (err instanceof RangeError) return false;
    throw err;
  }
  const w = uni.getWriter();
  await w.write(bytes);
  await w.close();
  return true;
}

async function readAll(
  readable: ReadableStream<Uint8Array>,
): Promise<{ received: Uint8Array; finished: boolean }> {
  const parts: number[] = [];
  try {
    for await (const chunk of readable) parts.push(...chunk);
    return { received: new Uint8Array(parts), finished: true };
  } catch {
    return { received: new Uint8Array(parts), finished: false };
  }
}

/**
 * Sends one v2 Connect for `username` (built with the independent client codec) and returns
 * the first frame of the router's reply.
 */
export async function askConnect(
  port: number,
  sni: string | null,
  username: string,
  language = "en",
): Promise<ReceivedFrame> {
  const uuid = "00000000-0000-0000-0000-000000000001";
  const seen = await converse(port, {
    sni,
    writes: [frame(0, buildConnectV2({ uuid, username, language }))],
  });
  const first = splitFrames(seen.received).frames[0];
  if (!first) throw new Error(`no reply frame (${seen.received.length} bytes received)`);
  return first;
}
