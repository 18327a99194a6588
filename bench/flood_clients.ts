/**
 * The attacking clients of `bench/flood.ts`, each run as its own process from one address
 * (default 127.0.0.1) so that its CPU never counts as the router's. Prints one JSON
 * `AttackReport` on stdout at the end.
 *
 *   deno run --unstable-net --allow-net=127.0.0.1 --unsafely-ignore-certificate-errors=play.example.com \
 *     bench/flood_clients.ts --role=storm --port=15530 --workers=32 --duration=10
 *
 * Roles:
 * - `hold`: opens connections at `--attack-rate` per second (open loop, at most `--attackers`
 *   at once); each sends a Connect, reads the reply and keeps the connection until the router
 *   ends it.
 * - `storm`: as fast as it can: `--workers` loops, each connecting, sending a Connect, reading the
 *   reply and closing, again and again, for `--duration` seconds or `--count` connections in all.
 *   `--holders=N` first opens N connections that send nothing (they hold admission slots);
 *   `--paced` starts connection n at n / `--attack-rate` seconds (a fixed offered load).
 * - `streams`: keeps `--attackers` connections open, each filling every stream it may and
 *   sending `--datagram-bytes` of QUIC datagrams (`tests/support/stream_filler.ts`), never a
 *   whole Connect; when the router closes one (connect_timeout), a new one takes its place.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { connectFrames } from "./loadgen.ts";
import { fillEveryStream } from "../tests/support/stream_filler.ts";

const SERVER_NAME = "play.example.com";
/** QUIC application close code of an admission refusal after the handshake (admission.ts). */
const ADMISSION_CLOSE_CODE = 0x50;
/**
 * How a client's connect fails when the router refuses it before the handshake completes: the
 * close travels as a transport APPLICATION_ERROR (quic_accept.ts), or as CONNECTION_REFUSED.
 */
const REFUSED_IN_HANDSHAKE = /application protocol caused|refused to accept/;

/** What one attacking process saw. */
export interface AttackReport {
  /** Connections attempted. */
  readonly connections: number;
  /** Connections that got a reply to their Connect (`hold`, `storm`) or were opened (`streams`). */
  readonly served: number;
  /** Connections the router refused (during or right after the handshake). */
  readonly refused: number;
  /** Connections that failed otherwise (timeouts, drops). */
  readonly failed: number;
  /** `hold`: arrivals not started because `--attackers` were open. */
  readonly skipped: number;
  /** Wall time of the attack, ms. */
  readonly elapsedMs: number;
  /** `streams`: bytes the router's flow control took and datagram bytes sent, all connections. */
  readonly streamBytes: number;
  readonly datagramBytes: number;
}

type Outcome = "served" | "refused" | "failed";
type Tally = { -readonly [K in keyof AttackReport]: AttackReport[K] };

function newTally(): Tally {
  return {
    connections: 0,
    served: 0,
    refused: 0,
    failed: 0,
    skipped: 0,
    elapsedMs: 0,
    streamBytes: 0,
    datagramBytes: 0,
  };
}

async function dial(endpoint: Deno.QuicEndpoint, host: string, port: number, keepAlive = false) {
  return await Deno.connectQuic({
    hostname: host,
    port,
    serverName: SERVER_NAME,
    alpnProtocols: ["hytale/2"],
    endpoint,
    maxIdleTimeout: 5_000,
    // A holder sends nothing else: without keep-alives it would idle out after 5 s.
    ...(keepAlive ? { keepAliveInterval: 1_000 } : {}),
  });
}

/**
 * One connection: connect, send `frame`, read the first reply chunk; then close at once, or
 * with `hold` wait until the router ends the connection.
 */
async function exchange(
  endpoint: Deno.QuicEndpoint,
  target: { host: string; port: number },
  frame: Uint8Array,
  hold: boolean,
): Promise<Outcome> {
  let conn: Deno.QuicConn;
  try {
    conn = await dial(endpoint, target.host, target.port);
  } catch (err) {
    return REFUSED_IN_HANDSHAKE.test(String(err)) ? "refused" : "failed";
  }
  try {
    const stream = await conn.createBidirectionalStream();
    const writer = stream.writable.getWriter();
    await writer.write(frame).catch(() => {});
    writer.releaseLock();
    const first = await stream.readable.getReader().read().catch(() => ({ done: true }));
    if (!first.done && !hold) return "served";
    const info = await conn.closed;
    return info.closeCode === ADMISSION_CLOSE_CODE ? "refused" : first.done ? "failed" : "served";
  } catch {
    // A refused connection can also end while the stream is being opened or written.
    const info = await Promise.race([conn.closed.catch(() => undefined), wait(1_000)]);
    return info?.closeCode === ADMISSION_CLOSE_CODE ? "refused" : "failed";
  } finally {
    try {
      conn.close({ closeCode: 0, reason: "" });
    } catch { /* already closed */ }
  }
}

function wait(ms: number): Promise<undefined> {
  return new Promise((r) => setTimeout(() => r(undefined), ms));
}

/** `hold`: open loop at `rate`/s for `durationMs`, at most `maxInFlight` open at once. */
async function holdRole(o: RoleOptions, tally: Tally): Promise<void> {
  const frames = connectFrames(64);
  const pending = new Set<Promise<void>>();
  const start = performance.now();
  const total = Math.floor(o.rate * o.durationMs / 1000);
  for (let i = 0; i < total;) {
    for (; i < total && start + i * 1000 / o.rate <= performance.now(); i++) {
      if (pending.size >= o.attackers) {
        tally.skipped++;
        continue;
      }
      tally.connections++;
      const task = exchange(o.endpoint, o, frames[i % frames.length]!, true).then((r) => {
        tally[r]++;
      });
      pending.add(task);
      task.finally(() => pending.delete(task));
    }
    await wait(Math.max(0, start + i * 1000 / o.rate - performance.now()));
  }
  await Promise.all(pending);
}

/**
 * `storm`: `workers` closed loops until `durationMs` passed or `count` connections started; with
 * `paced`, connection n starts no earlier than n / `rate` seconds in (same load for every mode).
 */
async function stormRole(o: RoleOptions, tally: Tally): Promise<void> {
  const frames = connectFrames(64);
  const holders = [];
  for (let i = 0; i < o.holders; i++) holders.push(await dial(o.endpoint, o.host, o.port, true));
  const start = performance.now();
  const more = () => tally.connections < o.count && performance.now() < start + o.durationMs;
  await Promise.all(Array.from({ length: o.workers }, async () => {
    while (more()) {
      const n = tally.connections++;
      if (o.paced) await wait(start + n * 1000 / o.rate - performance.now());
      tally[await exchange(o.endpoint, o, frames[n % frames.length]!, false)]++;
    }
  }));
  for (const conn of holders) conn.close({ closeCode: 0, reason: "" });
}

/** `streams`: `attackers` stream-filling connections at all times for `durationMs`. */
async function streamsRole(o: RoleOptions, tally: Tally): Promise<void> {
  const end = performance.now() + o.durationMs;
  await Promise.all(Array.from({ length: o.attackers }, async () => {
    while (performance.now() < end) {
      tally.connections++;
      let conn: Deno.QuicConn;
      try {
        conn = await dial(o.endpoint, o.host, o.port);
      } catch (err) {
        tally[REFUSED_IN_HANDSHAKE.test(String(err)) ? "refused" : "failed"]++;
        await wait(100);
        continue;
      }
      tally.served++;
      const report = await fillEveryStream(conn, {
        stallMs: 1_000,
        datagramBytes: o.datagramBytes,
      });
      tally.streamBytes += report.streamBytes;
      tally.datagramBytes += report.datagramBytes;
      const closed = conn.closed.catch(() => undefined);
      await Promise.race([closed, wait(Math.max(0, end - performance.now()))]);
      conn.close({ closeCode: 0, reason: "" });
    }
  }));
}

interface RoleOptions {
  readonly endpoint: Deno.QuicEndpoint;
  readonly host: string;
  readonly port: number;
  readonly durationMs: number;
  readonly rate: number;
  readonly attackers: number;
  readonly workers: number;
  readonly count: number;
  readonly holders: number;
  readonly paced: boolean;
  readonly datagramBytes: number;
}

const ROLES = { hold: holdRole, storm: stormRole, streams: streamsRole } as const;

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      role: { type: "string", default: "storm" },
      host: { type: "string", default: "127.0.0.1" },
      bind: { type: "string", default: "127.0.0.1" },
      port: { type: "string", default: "15530" },
      duration: { type: "string", default: "10" },
      "attack-rate": { type: "string", default: "400" },
      attackers: { type: "string", default: "1000" },
      workers: { type: "string", default: "32" },
      count: { type: "string", default: String(Number.MAX_SAFE_INTEGER) },
      holders: { type: "string", default: "0" },
      paced: { type: "boolean", default: false },
      "datagram-bytes": { type: "string", default: String(2 * 1024 * 1024) },
    },
  });
  const role = ROLES[values.role as keyof typeof ROLES];
  if (!role) throw new Error(`unknown --role ${values.role} (${Object.keys(ROLES).join(", ")})`);
  const endpoint = new Deno.QuicEndpoint({ hostname: values.bind, port: 0 });
  const tally = newTally();
  const started = performance.now();
  await role({
    endpoint,
    host: values.host,
    port: Number(values.port),
    durationMs: Number(values.duration) * 1000,
    rate: Number(values["attack-rate"]),
    attackers: Number(values.attackers),
    workers: Number(values.workers),
    count: Number(values.count),
    holders: Number(values.holders),
    paced: values.paced,
    datagramBytes: Number(values["datagram-bytes"]),
  }, tally);
  tally.elapsedMs = performance.now() - started;
  endpoint.close({ closeCode: 0, reason: "" });
  console.log(JSON.stringify(tally));
}

if (import.meta.main) await main();
