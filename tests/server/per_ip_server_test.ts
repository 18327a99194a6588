/**
 * The router closes connections over `limits.max_connections_per_ip` right after the handshake
 * with PER_IP_CLOSE_CODE, before reading any stream, and admits again once one ends.
 */
import { parseConfig } from "../../src/config/mod.ts";
import { Metrics } from "../../src/observability/mod.ts";
import { GatehouseServer, PER_IP_CLOSE_CODE } from "../../src/server/mod.ts";
import { parseSamples, sample } from "../observability/prom_text.ts";
import { assert, assertEquals } from "../support/assert.ts";
import { buildConnectV2, frame, splitFrames } from "../support/hytale_client_codec.ts";
import { silentLogger } from "../support/logger.ts";

const config = (limit: number) =>
  parseConfig(
    `
listen: "127.0.0.1:0"
limits:
  connect_timeout: 10s
  max_connections_per_ip: ${limit}
routing:
  default:
    strategy: round_robin
    backends:
      - { host: default.internal, port: 5520 }
`,
    "per_ip.yaml",
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

/** Sends a Connect and reads the reply frame, leaving the connection open (the router keeps
 * it counted while it waits for the client to close). */
async function connectAndHold(port: number): Promise<Deno.QuicConn> {
  const conn = await dial(port);
  const stream = await conn.createBidirectionalStream();
  const writer = stream.writable.getWriter();
  await writer.write(CONNECT);
  const reader = stream.readable.getReader();
  let got = new Uint8Array();
  while (splitFrames(got).frames.length === 0) {
    const { value, done } = await reader.read();
    if (done) break;
    got = new Uint8Array([...got, ...value]);
  }
  assertEquals(splitFrames(got).frames[0]?.id, 18, "a ClientReferral");
  reader.releaseLock();
  return conn;
}

Deno.test("connections over max_connections_per_ip are closed with the limit's code", async () => {
  const metrics = new Metrics();
  const server = await GatehouseServer.start(config(2), { logger: silentLogger(), metrics });
  const { port } = server.addr;
  const held = [await connectAndHold(port), await connectAndHold(port)];
  try {
    const extra = await dial(port);
    const info = await extra.closed;
    assertEquals(info.closeCode, PER_IP_CLOSE_CODE);
    assertEquals(server.perIpLimiter.refused, 1);
    assertEquals(server.perIpLimiter.openFor("127.0.0.1"), 2);
    const samples = parseSamples(await metrics.render());
    const refused = { reason: "per_ip_limit" };
    assertEquals(sample(samples, "gatehouse_connections_refused_total", refused), 1);
  } finally {
    for (const conn of held) conn.close({ closeCode: 0, reason: "" });
  }
  // The slots come back when the held connections end: bounded polling, because the router
  // notices the clients' close asynchronously and exposes no event for it.
  for (let i = 0; i < 250 && server.perIpLimiter.openFor("127.0.0.1") > 0; i++) {
    await new Promise((r) => setTimeout(r, 20));
  }
  assertEquals(server.perIpLimiter.openFor("127.0.0.1"), 0);
  const again = await connectAndHold(port);
  again.close({ closeCode: 0, reason: "" });
  await server.close(1_000);
});

Deno.test("max_connections_per_ip 0 leaves connections unlimited", async () => {
  const server = await GatehouseServer.start(config(0), { logger: silentLogger() });
  const held = [];
  for (let i = 0; i < 4; i++) held.push(await connectAndHold(server.addr.port));
  for (const conn of held) conn.close({ closeCode: 0, reason: "" });
  assert(server.perIpLimiter.refused === 0);
  await server.close(1_000);
});
