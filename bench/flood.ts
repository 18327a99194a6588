/**
 * Flood benchmark for `limits.max_connections_per_ip`: one address (127.0.0.1) opens connections
 * at a fixed high rate (open loop, up to `--attackers` at once), each completing a Connect
 * exchange and then keeping the connection open until the router closes it, while a few well-behaved clients from
 * another loopback address (127.0.0.2, via `bench/loadgen.ts --bind`) arrive at a steady rate.
 * The router runs as a subprocess with the `start` task's flags, once without the limit and once
 * with it (alternating A B B A for two rounds); the report is the well-behaved clients' reply
 * latency and success rate side by side.
 *
 *   deno task bench:flood [--attack-rate 400] [--attackers 1000] [--limit 8] [--rate 20] [--duration 10] [--rounds 2]
 *
 * Linux routes all of 127.0.0.0/8 to loopback, so a socket bound to 127.0.0.2 reaches a router on
 * 127.0.0.1 and the router sees 127.0.0.2 as the client address.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { ChildGroup } from "./children.ts";
import { connectFrames, type LoadgenReport } from "./loadgen.ts";
import { clientRunArgs, processCpuMs, quantile, runToEnd } from "./measure.ts";
import { startGatehouse, type Target } from "./targets.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const SERVER_NAME = "play.example.com";
const ATTACKER = "127.0.0.1";
const GOOD = "127.0.0.2";
/** QUIC application close code of a per-IP refusal (src/server/per_ip_limiter.ts). */
const PER_IP_CLOSE_CODE = 0x50;

/** What the attacker process saw. */
interface AttackReport {
  readonly connections: number;
  readonly served: number;
  readonly refused: number;
  readonly failed: number;
  /** Arrivals not started because `maxInFlight` were open. */
  readonly skipped: number;
}

/** One measured run of one mode. */
interface FloodResult {
  readonly limit: number;
  readonly goodScheduled: number;
  readonly goodCompleted: number;
  readonly goodErrors: Readonly<Record<string, number>>;
  readonly goodP50: number;
  readonly goodP99: number;
  readonly attack: AttackReport;
  readonly routerCpuPct: number;
}

// ---- attacker role (a subprocess of the benchmark) ----

/**
 * Opens connections from `bind` at `rate` per second (open loop, as a flood does not wait for
 * replies) for `durationMs`, at most `maxInFlight` at once; prints an `AttackReport`.
 */
async function attack(
  port: number,
  bind: string,
  rate: number,
  maxInFlight: number,
  durationMs: number,
) {
  const endpoint = new Deno.QuicEndpoint({ hostname: bind, port: 0 });
  const frames = connectFrames(64);
  const tally = { connections: 0, served: 0, refused: 0, failed: 0, skipped: 0 };
  const pending = new Set<Promise<void>>();
  const start = performance.now();
  const total = Math.floor(rate * durationMs / 1000);
  for (let i = 0; i < total;) {
    for (; i < total && start + i * 1000 / rate <= performance.now(); i++) {
      if (pending.size >= maxInFlight) {
        tally.skipped++;
        continue;
      }
      tally.connections++;
      const task = attackOnce(endpoint, port, frames[i % frames.length]!).then((o) => {
        tally[o]++;
      });
      pending.add(task);
      task.finally(() => pending.delete(task));
    }
    await new Promise((r) =>
      setTimeout(r, Math.max(0, start + i * 1000 / rate - performance.now()))
    );
  }
  await Promise.all(pending);
  endpoint.close({ closeCode: 0, reason: "" });
  console.log(JSON.stringify(tally));
}

/** Connect, send a Connect, read the reply, then hold the connection until the router ends it. */
async function attackOnce(
  endpoint: Deno.QuicEndpoint,
  port: number,
  frame: Uint8Array,
): Promise<"served" | "refused" | "failed"> {
  let conn: Deno.QuicConn | null = null;
  try {
    conn = await Deno.connectQuic({
      hostname: ATTACKER,
      port,
      serverName: SERVER_NAME,
      alpnProtocols: ["hytale/2"],
      endpoint,
      maxIdleTimeout: 5_000,
    });
    const closed = conn.closed;
    const stream = await conn.createBidirectionalStream();
    const writer = stream.writable.getWriter();
    await writer.write(frame).catch(() => {});
    writer.releaseLock();
    const reader = stream.readable.getReader();
    const first = await reader.read().catch(() => ({ done: true, value: undefined }));
    const info = await closed;
    if (info.closeCode === PER_IP_CLOSE_CODE) return "refused";
    return first.done ? "failed" : "served";
  } catch {
    // A refused connection can also end while the stream is being opened or written.
    const info = conn
      ? await Promise.race([conn.closed.catch(() => undefined), wait(1_000)])
      : undefined;
    return info?.closeCode === PER_IP_CLOSE_CODE ? "refused" : "failed";
  } finally {
    try {
      conn?.close({ closeCode: 0, reason: "" });
    } catch { /* already closed */ }
  }
}

function wait(ms: number): Promise<undefined> {
  return new Promise((r) => setTimeout(() => r(undefined), ms));
}

// ---- benchmark driver ----

interface FloodOptions {
  readonly port: number;
  readonly attackers: number;
  readonly attackRate: number;
  readonly limit: number;
  readonly rate: number;
  readonly durationS: number;
  readonly warmupS: number;
}

async function writeConfig(port: number, limit: number): Promise<string> {
  const base = await Deno.readTextFile(`${ROOT}bench/config.bench.yaml`);
  const text = base
    .replace(/^listen: .*$/m, `listen: "127.0.0.1:${port}"`)
    .replace(/max_connections_per_ip: \d+/, `max_connections_per_ip: ${limit}`)
    .replace(/log_client_ip: true/, "log_client_ip: false");
  await Deno.mkdir(`${ROOT}bench/results`, { recursive: true });
  const path = `${ROOT}bench/results/flood.${limit}.yaml`;
  await Deno.writeTextFile(path, text);
  return path;
}

/** Starts a `deno` child and resolves with its whole stdout once it exits 0. */
async function runMode(group: ChildGroup, o: FloodOptions, limit: number): Promise<FloodResult> {
  const target: Target = await startGatehouse(group, ROOT, await writeConfig(o.port, limit));
  try {
    const hosts = `${ATTACKER},${GOOD}`;
    const cpu0 = await processCpuMs(target.pid);
    const t0 = performance.now();
    const [attackOut, goodOut] = await Promise.all([
      runToEnd(group, ROOT, [
        ...clientRunArgs(hosts, SERVER_NAME, "bench/flood.ts"),
        "--role=attacker",
        `--port=${o.port}`,
        `--attackers=${o.attackers}`,
        `--attack-rate=${o.attackRate}`,
        `--duration=${o.durationS + o.warmupS}`,
      ]),
      runToEnd(group, ROOT, [
        ...clientRunArgs(hosts, SERVER_NAME, "bench/loadgen.ts"),
        `--host=${ATTACKER}`,
        `--bind=${GOOD}`,
        `--port=${o.port}`,
        `--rate=${o.rate}`,
        `--duration=${o.durationS}`,
        `--warmup=${o.warmupS}`,
        "--timeout=5",
      ]),
    ]);
    const cpuPct = 100 * (await processCpuMs(target.pid) - cpu0) / (performance.now() - t0);
    const good = JSON.parse(goodOut) as LoadgenReport;
    const samples = Float64Array.from(good.latencyMs).sort();
    return {
      limit,
      goodScheduled: good.scheduled,
      goodCompleted: good.completed,
      goodErrors: good.errors,
      goodP50: quantile(samples, 0.5),
      goodP99: quantile(samples, 0.99),
      attack: JSON.parse(attackOut) as AttackReport,
      routerCpuPct: cpuPct,
    };
  } finally {
    await group.stop(target.child, 5_000);
  }
}

function row(r: FloodResult): string {
  const ok = (100 * r.goodCompleted / Math.max(1, r.goodScheduled)).toFixed(1);
  const a = r.attack;
  return [
    r.limit === 0 ? "off" : String(r.limit),
    `${r.goodCompleted}/${r.goodScheduled} (${ok} %)`,
    r.goodP50.toFixed(1),
    r.goodP99.toFixed(1),
    `${a.connections} / ${a.served} / ${a.refused} / ${a.failed} / ${a.skipped}`,
    r.routerCpuPct.toFixed(0),
    JSON.stringify(r.goodErrors),
  ].join(" | ");
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      role: { type: "string", default: "driver" },
      port: { type: "string", default: "15530" },
      attackers: { type: "string", default: "1000" },
      "attack-rate": { type: "string", default: "400" },
      limit: { type: "string", default: "8" },
      rate: { type: "string", default: "20" },
      duration: { type: "string", default: "10" },
      warmup: { type: "string", default: "1" },
      rounds: { type: "string", default: "2" },
      json: { type: "string" },
    },
  });
  const num = (k: keyof typeof values) => Number(values[k]);
  if (values.role === "attacker") {
    const ms = num("duration") * 1000;
    return await attack(num("port"), ATTACKER, num("attack-rate"), num("attackers"), ms);
  }
  const o: FloodOptions = {
    port: num("port"),
    attackers: num("attackers"),
    attackRate: num("attack-rate"),
    limit: num("limit"),
    rate: num("rate"),
    durationS: num("duration"),
    warmupS: num("warmup"),
  };
  const group = new ChildGroup();
  Deno.addSignalListener("SIGINT", () => {
    group.killAllNow();
    Deno.exit(130);
  });
  const results: FloodResult[] = [];
  try {
    for (let round = 0; round < num("rounds"); round++) {
      const order = round % 2 === 0 ? [0, o.limit] : [o.limit, 0];
      for (const limit of order) results.push(await runMode(group, o, limit));
    }
  } finally {
    await group.stopAll(5_000);
  }
  console.log(
    `flood: ${o.attackRate} conn/s (≤ ${o.attackers} open) from ${ATTACKER}, well-behaved clients at ${o.rate}/s ` +
      `from ${GOOD}, ${o.durationS} s per run`,
  );
  console.log(
    "per-ip limit | good ok | good p50 ms | good p99 ms | attacker conns / served / refused / " +
      "failed / skipped | router CPU % | good errors",
  );
  for (const r of results) console.log(row(r));
  if (values.json) await Deno.writeTextFile(values.json, JSON.stringify(results, null, 2));
}

if (import.meta.main) await main();
