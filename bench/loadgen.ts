/**
 * One load-generator process for the router benchmark. It opens QUIC connections to a target at
 * a fixed arrival rate (open loop: arrivals follow the clock, not the replies, up to a cap on
 * connections in flight) and, for each, does what a Hytale client does up to its referral:
 * handshake with the given server name → open a bidirectional stream → send a framed Connect →
 * read until the first whole reply frame → close the connection (code 0).
 *
 * All connections share one `Deno.QuicEndpoint` (a new endpoint per connection leaks native
 * memory until GC on Deno 2.9.6). Prints one JSON object (`LoadgenReport`) on stdout at the end.
 *
 *   deno run --unstable-net --allow-net=127.0.0.1 \
 *     --unsafely-ignore-certificate-errors=play.example.com \
 *     bench/loadgen.ts --port 5520 --rate 200 --duration 5
 *
 * (Deno matches `--unsafely-ignore-certificate-errors` against the TLS server name, not the
 * address dialled, so it must name `--server-name`.)
 *
 * @module
 */

import { parseArgs } from "node:util";
import process from "node:process";
import { encodeConnect, encodeFrame, PacketId } from "../src/protocol/mod.ts";
import { quantile } from "./measure.ts";

/** What one load-generator run measured; `run.ts` merges the reports of all processes. */
export interface LoadgenReport {
  readonly targetRate: number;
  readonly durationS: number;
  /** Measured arrivals the schedule asked for (after the warm-up). */
  readonly scheduled: number;
  /** Measured connections that got a whole ClientReferral frame back. */
  readonly completed: number;
  /** Warm-up connections that got their reply (served, but not measured). */
  readonly warmupCompleted: number;
  /** Connections that failed, warm-up included, by kind (`timeout`, `connect`, `packet_1`…). */
  readonly errors: Readonly<Record<string, number>>;
  /** Arrivals not started because `maxInFlight` connections were open (warm-up included). */
  readonly capped: number;
  /** Wall time from the first measured arrival to the last reply (or schedule's end), ms. */
  readonly elapsedMs: number;
  /** The same from the first warm-up arrival, ms. */
  readonly totalElapsedMs: number;
  /** Connect start → whole reply frame, ms, one per completed connection. */
  readonly latencyMs: readonly number[];
  /** Connect start → handshake done (`connectQuic` resolved), ms. */
  readonly handshakeMs: readonly number[];
  /** How late each started arrival was against its schedule, ms (load-generator saturation). */
  readonly lagP99Ms: number;
  readonly peakInFlight: number;
  /** CPU time this process used during the measured part, ms (user + system). */
  readonly cpuMs: number;
  /** CPU time this process used in all, start-up included, ms. */
  readonly processCpuMs: number;
  /** Reply frame size in bytes (the first one seen), to check both targets answer alike. */
  readonly replyBytes: number | null;
}

/** Options of one run. */
export interface LoadgenOptions {
  readonly hostname: string;
  /** Local address the clients send from; default: `hostname`. */
  readonly bind?: string;
  readonly port: number;
  readonly serverName: string;
  readonly alpn: readonly string[];
  readonly rate: number;
  readonly durationMs: number;
  /** Arrivals at the same rate before the measured ones, not measured. */
  readonly warmupMs: number;
  readonly maxInFlight: number;
  readonly timeoutMs: number;
  /** Distinct Connect packets to cycle through (different usernames and UUIDs). */
  readonly variants: number;
}

const HEADER_BYTES = 8;
const MAX_REPLY_PAYLOAD = 64 * 1024;

/** Connect frames for `n` made-up players, encoded once before the run. */
export function connectFrames(n: number): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => {
    const hex = i.toString(16).padStart(12, "0");
    const payload = encodeConnect({
      username: `bench_${i}`,
      uuid: `7f3a9c2e-0000-4000-8000-${hex}`,
      language: "en-US",
      clientVersion: "bench",
    });
    return encodeFrame(PacketId.Connect, payload);
  });
}

type Outcome =
  | {
    readonly ok: true;
    readonly latency: number;
    readonly handshake: number;
    readonly bytes: number;
  }
  | { readonly ok: false; readonly error: string };

/** One client connection: connect, send the Connect frame, read the first reply frame, close. */
async function oneConnection(
  endpoint: Deno.QuicEndpoint,
  options: LoadgenOptions,
  frame: Uint8Array,
): Promise<Outcome> {
  const started = performance.now();
  let conn: Deno.QuicConn | null = null;
  let stage = "connect";
  let timedOut = false;
  const connecting: Promise<Deno.QuicConn> = Promise.resolve(Deno.connectQuic({
    hostname: options.hostname,
    port: options.port,
    serverName: options.serverName,
    alpnProtocols: [...options.alpn],
    endpoint,
    // A handshake that gets no answer is given up by QUIC itself after this long.
    maxIdleTimeout: options.timeoutMs,
  }));
  const { promise: expired, resolve: expire } = Promise.withResolvers<null>();
  const timer = setTimeout(() => {
    timedOut = true;
    closeQuietly(conn);
    expire(null);
  }, options.timeoutMs);
  try {
    conn = await Promise.race([connecting, expired]);
    if (conn === null) {
      connecting.then(closeQuietly, () => {});
      return { ok: false, error: "timeout" };
    }
    const handshake = performance.now() - started;
    stage = "stream";
    const stream = await conn.createBidirectionalStream();
    stage = "write";
    const writer = stream.writable.getWriter();
    await writer.write(frame);
    writer.releaseLock(); // a client keeps its half open; the router must not need a FIN
    stage = "read";
    const reply = await readFirstFrame(stream.readable);
    const latency = performance.now() - started;
    if (reply === null) return { ok: false, error: timedOut ? "timeout" : "closed" };
    if (reply.id !== PacketId.ClientReferral) return { ok: false, error: `packet_${reply.id}` };
    return { ok: true, latency, handshake, bytes: reply.bytes };
  } catch {
    return { ok: false, error: timedOut ? "timeout" : stage };
  } finally {
    clearTimeout(timer);
    closeQuietly(conn);
  }
}

/** The first whole frame's packet id and size on the wire, or null if the stream ended first. */
async function readFirstFrame(
  readable: ReadableStream<Uint8Array>,
): Promise<{ id: number; bytes: number } | null> {
  const reader = readable.getReader();
  const chunks: Uint8Array[] = [];
  let have = 0;
  let need = HEADER_BYTES;
  let header: DataView | null = null;
  try {
    while (have < need) {
      const { value, done } = await reader.read();
      if (done) return null;
      chunks.push(value);
      have += value.length;
      if (header === null && have >= HEADER_BYTES) {
        const head = concat(chunks, have);
        header = new DataView(head.buffer, head.byteOffset, head.byteLength);
        const len = header.getInt32(0, true);
        if (len < 0 || len > MAX_REPLY_PAYLOAD) return null;
        need = HEADER_BYTES + len;
      }
    }
    return header === null ? null : { id: header.getUint32(4, true), bytes: need };
  } finally {
    reader.releaseLock(); // closing the connection ends the stream
  }
}

function concat(chunks: readonly Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function closeQuietly(conn: Deno.QuicConn | null): void {
  try {
    conn?.close({ closeCode: 0, reason: "" });
  } catch {
    // Already closed.
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** What a run has seen so far, filled in as connections finish. */
class Tally {
  readonly latencyMs: number[] = [];
  readonly handshakeMs: number[] = [];
  readonly lags: number[] = [];
  readonly errors: Record<string, number> = {};
  warmupCompleted = 0;
  capped = 0;
  peakInFlight = 0;
  replyBytes: number | null = null;
  lastReply = 0;

  record(r: Outcome, measured: boolean): void {
    if (!r.ok) {
      this.errors[r.error] = (this.errors[r.error] ?? 0) + 1;
    } else if (!measured) {
      this.warmupCompleted++;
    } else {
      this.latencyMs.push(round3(r.latency));
      this.handshakeMs.push(round3(r.handshake));
      this.replyBytes ??= r.bytes;
      this.lastReply = performance.now();
    }
  }
}

/**
 * Runs the arrival schedule: arrival i is due at `start + i / rate`; every wake-up starts all
 * arrivals that are due (timers are ~1 ms coarse), skipping those over the in-flight cap. The
 * first `warmupMs` of arrivals warm this process up (JIT, the endpoint) and are not measured;
 * errors and skips count throughout.
 */
export async function runLoad(options: LoadgenOptions): Promise<LoadgenReport> {
  const endpoint = new Deno.QuicEndpoint({ hostname: options.bind ?? options.hostname, port: 0 });
  const frames = connectFrames(options.variants);
  const interval = 1000 / options.rate;
  const warmup = Math.floor(options.rate * options.warmupMs / 1000);
  const total = warmup + Math.max(1, Math.floor(options.rate * options.durationMs / 1000));
  const tally = new Tally();
  const pending = new Set<Promise<void>>();
  let cpuStart = cpuMs();
  const start = performance.now();
  for (let i = 0; i < total;) {
    const now = performance.now();
    for (; i < total && start + i * interval <= now; i++) {
      if (i === warmup) cpuStart = cpuMs();
      if (pending.size >= options.maxInFlight) {
        tally.capped++;
        continue;
      }
      const measured = i >= warmup;
      if (measured) tally.lags.push(now - (start + i * interval));
      const frame = frames[i % frames.length]!;
      const task = oneConnection(endpoint, options, frame).then((r) => tally.record(r, measured));
      pending.add(task);
      task.finally(() => pending.delete(task));
      tally.peakInFlight = Math.max(tally.peakInFlight, pending.size);
    }
    if (i < total) await sleep(Math.max(0, start + i * interval - performance.now()));
  }
  const scheduleEnd = start + total * interval;
  await Promise.all(pending);
  const cpu = cpuMs() - cpuStart;
  const end = Math.max(tally.lastReply, scheduleEnd);
  endpoint.close({ closeCode: 0, reason: "" });
  return {
    targetRate: options.rate,
    durationS: options.durationMs / 1000,
    scheduled: total - warmup,
    completed: tally.latencyMs.length,
    warmupCompleted: tally.warmupCompleted,
    errors: tally.errors,
    capped: tally.capped,
    elapsedMs: round3(end - (start + warmup * interval)),
    totalElapsedMs: round3(end - start),
    latencyMs: tally.latencyMs,
    handshakeMs: tally.handshakeMs,
    lagP99Ms: round3(quantile(tally.lags.sort((a, b) => a - b), 0.99)),
    peakInFlight: tally.peakInFlight,
    cpuMs: Math.round(cpu),
    processCpuMs: Math.round(cpuMs()),
    replyBytes: tally.replyBytes,
  };
}

function positive(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) {
    throw new Error(`${flag}: expected a positive number, got ${text}`);
  }
  return n;
}

function nonNegative(text: string, flag: string): number {
  return text.trim() === "0" ? 0 : positive(text, flag);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      host: { type: "string", default: "127.0.0.1" },
      bind: { type: "string" },
      port: { type: "string" },
      "server-name": { type: "string", default: "play.example.com" },
      alpn: { type: "string", default: "hytale/2" },
      rate: { type: "string", default: "100" },
      duration: { type: "string", default: "5" },
      warmup: { type: "string", default: "0.5" },
      "max-in-flight": { type: "string", default: "256" },
      timeout: { type: "string", default: "5" },
      variants: { type: "string", default: "64" },
    },
  });
  if (values.port === undefined) throw new Error("--port is required");
  const report = await runLoad({
    hostname: values.host,
    ...(values.bind ? { bind: values.bind } : {}),
    port: positive(values.port, "--port"),
    serverName: values["server-name"],
    alpn: values.alpn.split(","),
    rate: positive(values.rate, "--rate"),
    durationMs: positive(values.duration, "--duration") * 1000,
    warmupMs: nonNegative(values.warmup, "--warmup") * 1000,
    maxInFlight: positive(values["max-in-flight"], "--max-in-flight"),
    timeoutMs: positive(values.timeout, "--timeout") * 1000,
    variants: positive(values.variants, "--variants"),
  });
  console.log(JSON.stringify(report));
}

if (import.meta.main) await main();
