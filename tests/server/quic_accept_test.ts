/**
 * The accept path and transport limits from outside: what a client may open, how a refused
 * client is turned away (before its handshake completes), and that QUIC datagrams are drained.
 */
import { parseConfig } from "../../src/config/mod.ts";
import { Metrics } from "../../src/observability/mod.ts";
import { GatehouseServer, generateSelfSigned } from "../../src/server/mod.ts";
import { discardDatagrams, handshakeDone } from "../../src/server/quic_accept.ts";
import { parseSamples, sample } from "../observability/prom_text.ts";
import { assert, assertEquals, assertRejects } from "../support/assert.ts";
import { buildConnectV2, frame, splitFrames } from "../support/hytale_client_codec.ts";
import { silentLogger } from "../support/logger.ts";

const CONFIG = (limits: string) =>
  parseConfig(
    `
listen: "127.0.0.1:0"
limits: ${limits}
routing:
  default:
    strategy: round_robin
    backends:
      - { host: default.internal, port: 5520 }
`,
    "quic_accept.yaml",
  );

const CONNECT = frame(
  0,
  buildConnectV2({ uuid: "00000000-0000-0000-0000-000000000001", username: "A", language: "en" }),
);

async function dial(port: number): Promise<Deno.QuicConn> {
  return await Deno.connectQuic({
    hostname: "127.0.0.1",
    port,
    serverName: "play.example.com",
    alpnProtocols: ["hytale/2"],
  });
}

/** Sends the Connect on `stream` and returns the id of the first reply frame. */
async function replyId(stream: Deno.QuicBidirectionalStream): Promise<number | undefined> {
  const writer = stream.writable.getWriter();
  await writer.write(CONNECT);
  let got = new Uint8Array();
  for await (const chunk of stream.readable) {
    got = new Uint8Array([...got, ...chunk]);
    if (splitFrames(got).frames.length > 0) break;
  }
  return splitFrames(got).frames[0]?.id;
}

Deno.test("a client may open one bidirectional and one unidirectional stream at a time", async () => {
  const server = await GatehouseServer.start(CONFIG("{ connect_timeout: 5s }"), {
    logger: silentLogger(),
  });
  const conn = await dial(server.addr.port);
  try {
    // docs/protocol.md §1: a client may open unidirectional streams; they must not break it.
    const uni = (await conn.createUnidirectionalStream()).getWriter();
    await uni.write(new Uint8Array(16 * 1024).fill(1));
    // Deno reports a stream over the peer's MAX_STREAMS as a RangeError at once.
    await assertRejects(() => conn.createUnidirectionalStream(), RangeError);
    const first = await conn.createBidirectionalStream();
    await assertRejects(() => conn.createBidirectionalStream(), RangeError);
    assertEquals(await replyId(first), 18, "a ClientReferral on the one stream");
    await uni.close();
  } finally {
    conn.close({ closeCode: 0, reason: "" });
    await server.close(1_000);
  }
});

Deno.test("unidirectional streams are read and dropped up to 64 KiB, then stopped", async () => {
  const server = await GatehouseServer.start(CONFIG("{ connect_timeout: 5s }"), {
    logger: silentLogger(),
  });
  const conn = await dial(server.addr.port);
  try {
    // 4 MiB is over quinn's 1.25 MB stream window: without reads it would stall, and without
    // the stop it would be read whole. The router stops the stream: the writes fail.
    const uni = (await conn.createUnidirectionalStream()).getWriter();
    const chunk = new Uint8Array(64 * 1024).fill(2);
    let written = 0;
    const outcome = await (async () => {
      try {
        while (written < 4 * 1024 * 1024) {
          await uni.write(chunk);
          written += chunk.length;
        }
        return "all written";
      } catch {
        return "stopped";
      }
    })();
    assertEquals(outcome, "stopped", `${written} bytes written`);
    assert(written >= 64 * 1024 && written < 2 * 1024 * 1024, `${written} bytes written`);
    assertEquals(await replyId(await conn.createBidirectionalStream()), 18, "still served");
  } finally {
    conn.close({ closeCode: 0, reason: "" });
    await server.close(1_000);
  }
});

Deno.test("a refused client is closed before its handshake completes, and counted", async () => {
  const metrics = new Metrics();
  const server = await GatehouseServer.start(
    CONFIG("{ connect_timeout: 10s, max_connections_per_ip: 1 }"),
    { logger: silentLogger(), metrics },
  );
  const { port } = server.addr;
  // Holds the one slot of 127.0.0.1: it sends nothing, so the router keeps it open.
  const holder = await dial(port);
  try {
    // The close reaches the client in the handshake packets, where QUIC carries no
    // application code: the client's connect fails instead of completing.
    const refused = await assertRejects(() => dial(port), Error);
    assert(/application/.test(String(refused)), String(refused));
    const samples = parseSamples(await metrics.render());
    assertEquals(
      sample(samples, "gatehouse_connections_refused_total", { reason: "per_ip_limit" }),
      1,
    );
    assertEquals(sample(samples, "gatehouse_connections_accepted_total", {}), 1);
  } finally {
    holder.close({ closeCode: 0, reason: "" });
  }
  // The slot comes back once the router notices the holder's close (no event: bounded polling).
  let again: Deno.QuicConn | null = null;
  for (let i = 0; i < 50 && again === null; i++) {
    again = await dial(port).catch(() => null);
    if (again === null) await new Promise((r) => setTimeout(r, 50));
  }
  assert(again, "admitted again after the holder closed");
  assertEquals(await replyId(await again.createBidirectionalStream()), 18);
  again.close({ closeCode: 0, reason: "" });
  await server.close(1_000);
});

Deno.test("at max_connections an attempt is refused before any TLS work, as capacity", async () => {
  const metrics = new Metrics();
  const server = await GatehouseServer.start(
    CONFIG("{ connect_timeout: 10s, max_connections: 1 }"),
    { logger: silentLogger(), metrics },
  );
  const holder = await dial(server.addr.port);
  try {
    // Refused on the QuicIncoming (CONNECTION_REFUSED), not after an accept.
    const refused = await assertRejects(() => dial(server.addr.port), Error);
    assert(/refused to accept/.test(String(refused)), String(refused));
    const samples = parseSamples(await metrics.render());
    assertEquals(sample(samples, "gatehouse_connections_refused_total", { reason: "capacity" }), 1);
  } finally {
    holder.close({ closeCode: 0, reason: "" });
    await server.close(1_000);
  }
});

/**
 * A connection whose handshake completes when `finish` is called and which, like Deno's, settles
 * `handshake` (and rejects `closed`) when closed.
 */
function fakeConn(): { conn: Deno.QuicConn; finish(): void; closes: number } {
  const handshake = Promise.withResolvers<void>();
  const closed = Promise.withResolvers<Deno.QuicCloseInfo>();
  const fake = {
    closes: 0,
    finish: () => handshake.resolve(),
    conn: {
      handshake: handshake.promise,
      closed: closed.promise,
      close() {
        fake.closes++;
        closed.reject(new Error("closed"));
        handshake.resolve();
      },
    } as unknown as Deno.QuicConn,
  };
  return fake;
}

Deno.test("handshakeDone: a handshake not done within the timeout is closed and reported", async () => {
  const stalled = fakeConn();
  assertEquals(await handshakeDone(stalled.conn, 20), false);
  assertEquals(stalled.closes, 1);
  const prompt = fakeConn();
  const done = handshakeDone(prompt.conn, 1_000);
  prompt.finish();
  assertEquals(await done, true);
  assertEquals(prompt.closes, 0);
});

Deno.test("discardDatagrams reads every datagram and ends with the connection", async () => {
  const tls = await generateSelfSigned();
  const endpoint = new Deno.QuicEndpoint({ hostname: "127.0.0.1", port: 0 });
  const listener = endpoint.listen({ alpnProtocols: ["t"], cert: tls.cert, key: tls.key });
  const accepted = listener.accept();
  const client = await Deno.connectQuic({
    hostname: "127.0.0.1",
    port: endpoint.addr.port,
    serverName: "localhost",
    alpnProtocols: ["t"],
    caCerts: [tls.cert],
  });
  const server = await accepted;
  let read = 0;
  const all = Promise.withResolvers<void>();
  const reading = server.readDatagram.bind(server);
  // Counts what the drain takes off the connection without changing what it does.
  server.readDatagram = () =>
    reading().then((d) => {
      if (++read === 20) all.resolve();
      return d;
    });
  const drained = discardDatagrams(server);
  for (let i = 0; i < 20; i++) await client.sendDatagram(new Uint8Array(1000));
  // Loopback does not drop 20 datagrams; the drain keeps up and frees quinn's buffer.
  const timer = setTimeout(
    () => all.reject(new Error(`${read} of 20 datagrams read in 2 s`)),
    2_000,
  );
  await all.promise.finally(() => clearTimeout(timer));
  assertEquals(read, 20);
  client.close({ closeCode: 0, reason: "" });
  await drained;
  endpoint.close();
});
