/**
 * Admission over real loopback QUIC: a client from 127.0.0.1 over a limit (or denied) is closed
 * as soon as its address is known and counted under its reason, while a
 * player from 127.0.0.2 (a child process, see `second_address_client.ts`) keeps getting its
 * referral during the attack; a live reload keeps the open counts and applies new lists.
 */
import { parseConfig } from "../../src/config/mod.ts";
import { Metrics } from "../../src/observability/mod.ts";
import { GatehouseServer } from "../../src/server/mod.ts";
import { assert, assertEquals } from "../support/assert.ts";
import { buildConnectV2, frame, splitFrames } from "../support/hytale_client_codec.ts";
import { silentLogger } from "../support/logger.ts";
import { refusals } from "./refusals.ts";

const config = (limits: string, access = "") =>
  parseConfig(
    `
listen: "127.0.0.1:0"
limits:
  connect_timeout: 10s
${limits}
${access}
routing:
  default:
    strategy: round_robin
    backends:
      - { host: default.internal, port: 5520 }
`,
    "admission.yaml",
  );

const CONNECT = frame(
  0,
  buildConnectV2({ uuid: "00000000-0000-0000-0000-000000000001", username: "A", language: "en" }),
);
const SECOND_CLIENT = new URL("./second_address_client.ts", import.meta.url).pathname;

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

/**
 * Dials once; `refused` when the router ends the connection within `ms` (the handshake fails,
 * or the connection is closed with any code: a close before the handshake completes reaches the
 * client as a bare transport APPLICATION_ERROR, see `quic_accept.ts`), else `open` (admitted: it
 * waits for a Connect; closed here).
 */
async function dialOutcome(port: number, ms = 2_000): Promise<"refused" | "open"> {
  let conn: Deno.QuicConn;
  try {
    conn = await dial(port);
  } catch {
    return "refused";
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const ended = await Promise.race([
    conn.closed.then(() => true, () => true),
    new Promise<false>((r) => timer = setTimeout(() => r(false), ms)),
  ]);
  clearTimeout(timer);
  conn.close({ closeCode: 0, reason: "" });
  return ended ? "refused" : "open";
}

/**
 * Floods the router from 127.0.0.1 (each dial expected to be refused) while a child process sends
 * `connects` Connects from 127.0.0.2; returns the child's results and the refusals seen before,
 * during and after the child's run. Bounded: at most 2,000 dials.
 */
async function attackWhileSecondClientConnects(port: number, connects: number) {
  const attack = { refused: 0, admitted: 0, stop: false };
  const underWay = Promise.withResolvers<void>();
  const loop = (async () => {
    for (let i = 0; i < 2_000 && !attack.stop; i++) {
      if (await dialOutcome(port, 1_000) === "refused") attack.refused++;
      else attack.admitted++;
      if (attack.refused === 1) underWay.resolve();
    }
    underWay.resolve();
  })();
  // The good client starts once the attack is under way (its first refusal).
  await underWay.promise;
  const before = attack.refused;
  const child = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--unstable-net",
      "--no-prompt",
      "--allow-net=127.0.0.1,127.0.0.2",
      "--unsafely-ignore-certificate-errors",
      SECOND_CLIENT,
      String(port),
      String(connects),
    ],
    stderr: "null",
  }).output();
  const during = attack.refused - before;
  attack.stop = true;
  await loop;
  const lines = new TextDecoder().decode(child.stdout).trim().split("\n").filter((l) => l);
  return { results: lines.map((l) => JSON.parse(l)), before, during, attack };
}

Deno.test("a client over max_connections_per_ip is refused and counted while 127.0.0.2 is served", async () => {
  const metrics = new Metrics();
  const limits = "  max_connections_per_ip: 2\n  handshake_rate: { per_second: 0 }";
  const server = await GatehouseServer.start(config(limits), { logger: silentLogger(), metrics });
  const { port } = server.addr;
  const held = [await connectAndHold(port), await connectAndHold(port)];
  try {
    const run = await attackWhileSecondClientConnects(port, 5);
    assertEquals(run.results.map((r) => r.frame), [18, 18, 18, 18, 18], JSON.stringify(run));
    assert(run.before > 0 && run.during > 0, `refusals before ${run.before}, during ${run.during}`);
    assertEquals(run.attack.admitted, 0, "every attacking dial was refused by admission");
    assertEquals(await refusals(metrics), {
      rate_limit: 0,
      per_ip_limit: run.attack.refused,
      capacity: 0,
      access_denied: 0,
      handshake_limit: 0,
      subnet_limit: 0,
    });
    assertEquals(server.admission.openFor("127.0.0.1"), 2);
    // A live reload keeps the held connections counted, and applies new access lists.
    const reloaded = await server.reload(config(limits));
    assert(reloaded.ok);
    assertEquals(await dialOutcome(port), "refused", "still at the limit");
    assertEquals((await refusals(metrics)).per_ip_limit, run.attack.refused + 1);
    await server.reload(config(limits, "access: { deny: [127.0.0.1] }"));
    assertEquals(await dialOutcome(port), "refused");
    assertEquals((await refusals(metrics)).access_denied, 1);
    await server.reload(config(limits));
  } finally {
    for (const conn of held) conn.close({ closeCode: 0, reason: "" });
  }
  // The slots come back when the held connections end: bounded polling, because the router
  // notices the clients' close asynchronously and exposes no event for it.
  for (let i = 0; i < 250 && server.admission.openFor("127.0.0.1") > 0; i++) {
    await new Promise((r) => setTimeout(r, 20));
  }
  assertEquals(server.admission.openFor("127.0.0.1"), 0);
  const again = await connectAndHold(port);
  again.close({ closeCode: 0, reason: "" });
  await server.close(1_000);
});

Deno.test("a handshake flood from 127.0.0.1 is rate limited while 127.0.0.2 is served", async () => {
  const metrics = new Metrics();
  const limits = "  max_connections_per_ip: 0\n  handshake_rate: { per_second: 1, burst: 5 }";
  const server = await GatehouseServer.start(config(limits), { logger: silentLogger(), metrics });
  const { port } = server.addr;
  const held = [];
  for (let i = 0; i < 5; i++) held.push(await connectAndHold(port)); // the burst
  // 127.0.0.2 has a bucket of its own: 4 Connects fit in its burst.
  try {
    const run = await attackWhileSecondClientConnects(port, 4);
    assertEquals(run.results.map((r) => r.frame), [18, 18, 18, 18], JSON.stringify(run));
    assert(run.before > 0 && run.during > 0, `refusals before ${run.before}, during ${run.during}`);
    // At 1/s a token comes back now and then: that dial is admitted and waits for a Connect.
    assert(run.attack.admitted <= run.attack.refused, JSON.stringify(run.attack));
    assertEquals(await refusals(metrics), {
      rate_limit: run.attack.refused,
      per_ip_limit: 0,
      capacity: 0,
      access_denied: 0,
      handshake_limit: 0,
      subnet_limit: 0,
    });
  } finally {
    for (const conn of held) conn.close({ closeCode: 0, reason: "" });
    await server.close(1_000);
  }
});

Deno.test("a denied address is refused as access_denied while an allowed one is served", async () => {
  const metrics = new Metrics();
  const access = "access: { allow: [127.0.0.0/8], deny: [127.0.0.1] }";
  const server = await GatehouseServer.start(config("", access), {
    logger: silentLogger(),
    metrics,
  });
  try {
    const run = await attackWhileSecondClientConnects(server.addr.port, 3);
    assertEquals(run.results.map((r) => r.frame), [18, 18, 18], JSON.stringify(run));
    assert(run.during > 0);
    assertEquals(run.attack.admitted, 0);
    assertEquals((await refusals(metrics)).access_denied, run.attack.refused);
    assertEquals(server.admission.trackedPrefixes, 1, "only 127.0.0.2 is remembered");
  } finally {
    await server.close(1_000);
  }
});

Deno.test("max_connections_per_ip 0 and no rate leave one address unlimited", async () => {
  const limits = "  max_connections_per_ip: 0\n  handshake_rate: { per_second: 0 }";
  const server = await GatehouseServer.start(config(limits), { logger: silentLogger() });
  const held = [];
  for (let i = 0; i < 4; i++) held.push(await connectAndHold(server.addr.port));
  assertEquals(server.admission.openFor("127.0.0.1"), 4);
  for (const conn of held) conn.close({ closeCode: 0, reason: "" });
  await server.close(1_000);
});
