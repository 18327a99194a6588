/**
 * Per-call cost of Gatehouse's gRPC plugin client against the Go peer's own Go client (the same
 * grpc-go stack the Go router uses), side by side on one Go peer server, sequential and with 16
 * calls in flight. Goal (issue 3): our p50 within 1 ms of the Go client's.
 *
 * Run: `deno run --unstable-net --no-prompt --allow-net=127.0.0.1 --allow-read --allow-run
 * --allow-env bench/grpc_bench.ts [--seconds 5] [--rounds 1] [--json FILE]`. Needs the Go peer
 * (`.ci/setup_grpc.sh`).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { Logger } from "../src/observability/mod.ts";
import { createGrpcPlugin } from "../src/plugins/grpc/mod.ts";
import { quantile } from "./measure.ts";

const HOME = Deno.env.get("HOME") ?? "/root";
const PEER_DIR = Deno.env.get("GRPCPEER_DIR") ??
  `${Deno.env.get("XDG_CACHE_HOME") ?? `${HOME}/.cache`}/gatehouse/grpcpeer`;

/** One client's result at one concurrency. */
interface Result {
  readonly client: "gatehouse" | "go";
  readonly concurrency: number;
  readonly ok: number;
  readonly errors: number;
  readonly callsPerS: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

// The request grpcpeer-goclient sends (its map, marshalled with sorted keys).
const REQUEST = new TextEncoder().encode(JSON.stringify({
  candidates: [{ host: "a.local", port: 25565, weight: 1 }],
  event: {
    sni: "grpc.example.com",
    username: "alice",
    uuid: "00000000-0000-0000-0000-000000000001",
  },
  selected_index: 0,
  strategy: "round_robin",
}));

async function startPeer(): Promise<{ address: string; stop: () => Promise<void> }> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const address = `127.0.0.1:${(listener.addr as Deno.NetAddr).port}`;
  listener.close();
  const child = new Deno.Command(`${PEER_DIR}/grpcpeer`, {
    args: ["-listen", address],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = child.stderr.getReader();
  let log = "";
  while (!log.includes("listening on")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`grpcpeer did not start: ${log}`);
    log += new TextDecoder().decode(value);
  }
  const drained = (async () => {
    while (!(await reader.read()).done) { /* discard */ }
  })();
  return {
    address,
    stop: async () => {
      child.kill("SIGKILL");
      await child.status;
      await drained;
    },
  };
}

async function benchGatehouse(address: string, seconds: number, concurrency: number) {
  const logger = new Logger({ level: "error", format: "text" });
  const plugin = createGrpcPlugin({ name: "bench", address, timeoutMs: 2000, logger });
  try {
    // Warm-up: connection, JIT.
    for (let i = 0; i < 2000; i++) await plugin.call(REQUEST, 2000);
    const latencies: number[] = [];
    let errors = 0;
    const end = performance.now() + seconds * 1000;
    const started = performance.now();
    const worker = async () => {
      while (performance.now() < end) {
        const t = performance.now();
        try {
          await plugin.call(REQUEST, 2000);
          latencies.push(performance.now() - t);
        } catch {
          errors += 1;
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    const elapsed = (performance.now() - started) / 1000;
    return summarize("gatehouse", concurrency, latencies, errors, elapsed);
  } finally {
    await plugin.close();
  }
}

function summarize(
  client: Result["client"],
  concurrency: number,
  latencies: number[],
  errors: number,
  elapsedS: number,
): Result {
  latencies.sort((a, b) => a - b);
  return {
    client,
    concurrency,
    ok: latencies.length,
    errors,
    callsPerS: latencies.length / elapsedS,
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
  };
}

async function benchGo(address: string, seconds: number, concurrency: number): Promise<Result> {
  const out = await new Deno.Command(`${PEER_DIR}/grpcpeer-goclient`, {
    args: ["-addr", address, "-bench", `${seconds}s`, "-c", String(concurrency)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  // "go client c=1: 18140 ok, 0 err, 6046 calls/s, p50=138.666µs p99=465.201µs"
  const m = /: (\d+) ok, (\d+) err, (\d+) calls\/s, p50=(\S+) p99=(\S+)/.exec(text);
  if (!out.success || !m) {
    throw new Error(`goclient failed: ${text}${new TextDecoder().decode(out.stderr)}`);
  }
  return {
    client: "go",
    concurrency,
    ok: Number(m[1]),
    errors: Number(m[2]),
    callsPerS: Number(m[3]),
    p50Ms: goDurationMs(m[4]!),
    p99Ms: goDurationMs(m[5]!),
  };
}

/** Go's `time.Duration` text (`138.666µs`, `1.154265ms`, `2s`) in milliseconds. */
function goDurationMs(text: string): number {
  const m = /^([\d.]+)(ns|µs|us|ms|s)$/.exec(text);
  if (!m) return NaN;
  const scale: Record<string, number> = { ns: 1e-6, "µs": 1e-3, us: 1e-3, ms: 1, s: 1000 };
  return Number(m[1]) * (scale[m[2]!] ?? NaN);
}

function line(r: Result): string {
  return `${r.client.padEnd(9)} c=${String(r.concurrency).padEnd(2)} ` +
    `${r.callsPerS.toFixed(0).padStart(6)} calls/s  p50 ${r.p50Ms.toFixed(3)} ms  ` +
    `p99 ${r.p99Ms.toFixed(3)} ms  (${r.ok} ok, ${r.errors} err)`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      seconds: { type: "string", default: "5" },
      rounds: { type: "string", default: "1" },
      json: { type: "string" },
    },
  });
  const seconds = Number(values.seconds);
  const rounds = Number(values.rounds);
  const peer = await startPeer();
  const results: Result[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      for (const c of [1, 16]) {
        // Alternate clients so drift (thermal, other load) hits both alike.
        const ours = await benchGatehouse(peer.address, seconds, c);
        const go = await benchGo(peer.address, seconds, c);
        results.push(ours, go);
        console.log(line(ours));
        console.log(line(go));
        console.log(
          `  c=${c}: p50 difference ${(ours.p50Ms - go.p50Ms).toFixed(3)} ms (goal ≤ 1 ms), ` +
            `throughput ratio ${(ours.callsPerS / go.callsPerS).toFixed(2)}`,
        );
      }
    }
  } finally {
    await peer.stop();
  }
  if (values.json) await Deno.writeTextFile(values.json, JSON.stringify(results, null, 2) + "\n");
}

if (import.meta.main) await main();
