/**
 * What a client can make the router hold before its Connect: attackers open and fill every
 * stream the transport limits allow (`quic_accept.ts`: one bidirectional, one unidirectional),
 * and the router process's RSS may grow by at most 2 MiB per attacking connection, while a
 * well-behaved client keeps getting its referral. With QUIC's defaults (100 + 100 streams of
 * 1.25 MB each) one such connection grew the router by ~257 MiB.
 *
 * The router runs as its own process (`serve`) so that its RSS is its alone.
 */
import { assert, assertEquals } from "../support/assert.ts";
import { UNI_STREAM_BUDGET } from "../../src/server/quic_accept.ts";
import { procFile, startRouterProcess } from "../support/process_router.ts";
import { askConnect } from "../support/router_harness.ts";
import { fillEveryStream, type FillReport } from "../support/stream_filler.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const ATTACKERS = 8;
const MAX_GROWTH_PER_CONNECTION_MIB = 2;

/** Long enough that no attacker is closed by connect_timeout while it is measured. */
const CONFIG = `listen: "127.0.0.1:0"
admin: { listen: "" }
limits: { connect_timeout: 30s }
routing: { default: { strategy: round_robin, backends: [{ host: a.internal, port: 5520 }] } }
`;

async function rssMiB(pid: number): Promise<number> {
  const kib = Number(/^VmRSS:\s+(\d+) kB/m.exec(await procFile(pid, "status") ?? "")?.[1]);
  assert(Number.isFinite(kib), `no VmRSS for process ${pid}`);
  return kib / 1024;
}

async function attacker(port: number): Promise<{ conn: Deno.QuicConn; report: FillReport }> {
  const conn = await Deno.connectQuic({
    hostname: "127.0.0.1",
    port,
    serverName: "play.example.com",
    alpnProtocols: ["hytale/2"],
  });
  return { conn, report: await fillEveryStream(conn, { datagramBytes: 0 }) };
}

Deno.test(`${ATTACKERS} clients filling every stream they may pin ≤ ${MAX_GROWTH_PER_CONNECTION_MIB} MiB each; others are served`, async () => {
  const dir = await Deno.makeTempDir({ prefix: "gatehouse-streams-" });
  await Deno.writeTextFile(`${dir}/config.yaml`, CONFIG);
  const router = await startRouterProcess(
    [
      "run",
      "--unstable-net",
      "--no-prompt",
      `--allow-read=${ROOT},${dir}`,
      "--allow-net=127.0.0.1",
      "--allow-env",
      "src/cli/main.ts",
      "serve",
      "--config",
      `${dir}/config.yaml`,
      "--log-format",
      "json",
    ],
    ROOT,
  );
  const conns: Deno.QuicConn[] = [];
  try {
    // Warm-up: the first connections grow the heap and native pools once.
    for (let i = 0; i < 10; i++) await askConnect(router.port, "play.example.com", "Warm");
    const before = await rssMiB(router.pid);
    const attacks = await Promise.all(
      Array.from({ length: ATTACKERS }, () => attacker(router.port)),
    );
    conns.push(...attacks.map((a) => a.conn));
    for (const { report } of attacks) {
      assertEquals([report.bidiStreams, report.uniStreams], [1, 1], JSON.stringify(report));
      // The partial Connect, and on the unidirectional stream at most one receive window (quinn's
      // 1.25 MB): the router reads and drops UNI_STREAM_BUDGET of it, then stops the stream and
      // quinn drops the rest, so the growth below stays small.
      const window = 1_250_000;
      assert(
        report.streamBytes <= 8 + 16 * 1024 + window + UNI_STREAM_BUDGET,
        JSON.stringify(report),
      );
    }
    // Meanwhile a well-behaved client gets its referral.
    assertEquals((await askConnect(router.port, "play.example.com", "Good")).id, 18);
    // A settling time, not a wait for an event: packets still in flight when the writes stalled
    // land in the router's buffers within it, and the measurement must include them.
    await new Promise((r) => setTimeout(r, 500));
    const growth = (await rssMiB(router.pid) - before) / ATTACKERS;
    // The figure the README quotes.
    console.log(`router RSS +${growth.toFixed(3)} MiB per stream-filling connection`);
    assert(
      growth <= MAX_GROWTH_PER_CONNECTION_MIB,
      `router RSS grew ${growth.toFixed(2)} MiB per attacking connection`,
    );
    assertEquals((await askConnect(router.port, "play.example.com", "Good")).id, 18);
  } finally {
    for (const conn of conns) conn.close({ closeCode: 0, reason: "" });
    await router.stop("SIGTERM");
    await Deno.remove(dir, { recursive: true });
  }
});
