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
 *   deno run --unstable-net --allow-net=127.0.0.1 --unsafely-ignore-certificate-errors=127.0.0.1 \
 *     bench/loadgen.ts --port 5520 --rate 200 --duration 5
 *
 * @module
 */

import { parseArgs } from "node:util";
import process from "node:process";
import { encodeConnect, encodeFrame, PacketId } from "../src/protocol/mod.ts";

/** What one load-generator run measured; `run.ts` merges the reports of all processes. */
export interface LoadgenReport {
  readonly targetRate: number;
  readonly durationS: number;
  /** Arrivals the schedule asked for. */
  readonly scheduled: number;
  /** Connections that got a whole ClientReferral frame back. */
  readonly completed: number;
  /** Connections that failed, by kind (`timeout`, `connect`, `closed`, `packet_1`, ...). */
  readonly errors: Readonly<Record<string, number>>;
  /** Arrivals not started because `maxInFlight` connections were already open. */
  readonly capped: number;
  /** Wall time from the first arrival to the last reply (or the schedule's end), ms. */
  readonly elapsedMs: number;
  /** Connect start → whole reply frame, ms, one per completed connection. */
  readonly latencyMs: readonly number[];
  /** Connect start → handshake done (`connectQuic` resolved), ms. */
  readonly handshakeMs: readonly number[];
  /** How late each started arrival was against its schedule, ms (load-generator saturation). */
  readonly lagP99Ms: number;
  readonly peakInFlight: number;
  /** CPU time this process used during the run, ms (user + system). */
  readonly cpuMs: number;
  /** Reply frame size in bytes (the first one seen), to check both targets answer alike. */
  readonly replyBytes: number | null;
}

/** Options of one run. */
export interface LoadgenOptions {
  readonly hostname: string;
  readonly port: number;
  readonly serverName: string;
  readonly alpn: readonly string[];
  readonly rate: number;
  readonly durationMs: number;
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
  const timer = setTimeout(() => {
    timedOut = true;
    closeQuietly(conn);
  }, options.timeoutMs);
  try {
    conn = await Deno.connectQuic({
      hostname: options.hostname,
      port: options.port,
      serverName: options.serverName,
      alpnProtocols: [...options.alpn],
      endpoint,
    });
    if (timedOut) return { ok: false, error: "timeout" };
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
        header = new DataView(concat(chunks, have).buffer);
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

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/**
 * Runs the arrival schedule: arrival i is due at `start + i / rate`; every wake-up starts all
 * arrivals that are due (timers are ~1 ms coarse), skipping those over the in-flight cap.
 */
export async function runLoad(options: LoadgenOptions): Promise<LoadgenReport> {
  const endpoint = new Deno.QuicEndpoint({ hostname: options.hostname, port: 0 });
  const frames = connectFrames(options.variants);
  const interval = 1000 / options.rate;
  const scheduled = Math.max(1, Math.floor(options.rate * options.durationMs / 1000));
  const latencyMs: number[] = [];
  const handshakeMs: number[] = [];
  const lags: number[] = [];
  const errors: Record<string, number> = {};
  const pending = new Set<Promise<void>>();
  let capped = 0;
  let peakInFlight = 0;
  let replyBytes: number | null = null;
  let lastReply = 0;

  const cpuStart = cpuMs();
  const start = performance.now();
  for (let i = 0; i < scheduled;) {
    const now = performance.now();
    for (; i < scheduled && start + i * interval <= now; i++) {
      if (pending.size >= options.maxInFlight) {
        capped++;
        continue;
      }
      lags.push(now - (start + i * interval));
      const task = oneConnection(endpoint, options, frames[i % frames.length]!).then((r) => {
        if (r.ok) {
          latencyMs.push(round3(r.latency));
          handshakeMs.push(round3(r.handshake));
          replyBytes ??= r.bytes;
          lastReply = performance.now();
        } else {
          errors[r.error] = (errors[r.error] ?? 0) + 1;
        }
      });
      pending.add(task);
      task.finally(() => pending.delete(task));
      peakInFlight = Math.max(peakInFlight, pending.size);
    }
    if (i < scheduled) await sleep(Math.max(0, start + i * interval - performance.now()));
  }
  const scheduleEnd = start + scheduled * interval;
  await Promise.all(pending);
  const elapsedMs = Math.max(lastReply, scheduleEnd) - start;
  const cpu = cpuMs() - cpuStart;
  endpoint.close({ closeCode: 0, reason: "" });
  lags.sort((a, b) => a - b);
  return {
    targetRate: options.rate,
    durationS: options.durationMs / 1000,
    scheduled,
    completed: latencyMs.length,
    errors,
    capped,
    elapsedMs: round3(elapsedMs),
    latencyMs,
    handshakeMs,
    lagP99Ms: round3(quantile(lags, 0.99)),
    peakInFlight,
    cpuMs: Math.round(cpu),
    replyBytes,
  };
}

function positive(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) {
    throw new Error(`${flag}: expected a positive number, got ${text}`);
  }
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      host: { type: "string", default: "127.0.0.1" },
      port: { type: "string" },
      "server-name": { type: "string", default: "play.example.com" },
      alpn: { type: "string", default: "hytale/2" },
      rate: { type: "string", default: "100" },
      duration: { type: "string", default: "5" },
      "max-in-flight": { type: "string", default: "256" },
      timeout: { type: "string", default: "5" },
      variants: { type: "string", default: "64" },
    },
  });
  if (values.port === undefined) throw new Error("--port is required");
  const report = await runLoad({
    hostname: values.host,
    port: positive(values.port, "--port"),
    serverName: values["server-name"],
    alpn: values.alpn.split(","),
    rate: positive(values.rate, "--rate"),
    durationMs: positive(values.duration, "--duration") * 1000,
    maxInFlight: positive(values["max-in-flight"], "--max-in-flight"),
    timeoutMs: positive(values.timeout, "--timeout") * 1000,
    variants: positive(values.variants, "--variants"),
  });
  console.log(JSON.stringify(report));
}

if (import.meta.main) await main();
