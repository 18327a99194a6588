/**
 * WASM plugin host benchmark: per-call cost of the example plugin (AssemblyScript) through
 *
 * - `direct`: the original module called on this thread — no worker, no rewriting (baseline);
 * - `instrumented`: the rewritten module (deadline checks, memory cap) on this thread;
 * - `host`: the full host — sandboxed worker, watchdog, breaker — one call at a time;
 * - `host xN`: the full host with N instances and many calls in flight (throughput);
 * - `process`, `process xN`: the same through `wasm.isolation: process` (the instances in a child
 *   Deno process, calls framed over its stdin/stdout), with `--isolation process` or `both`.
 *
 * Reports p50/p99 per call and calls/s; the isolation overhead is host p50 − direct p50
 * (goal ≤ 50 µs) and the throughput goal is ≥ 50,000 calls/s (worker isolation). Runs the
 * variants alternately in rounds so drift lands on all alike.
 *
 * `deno run --unstable-worker-options --allow-read --allow-write --allow-run --allow-env
 * bench/wasm_bench.ts [--calls N] [--rounds N] [--instances N] [--in-flight N] [--json FILE]
 * [--plugin OTHER.wasm] [--isolation worker|process|both]` (`--plugin`: e.g. the C example, to
 * see the host's cost under a cheaper plugin; `--isolation`: default `worker`)
 *
 * @module
 */

import { parseArgs } from "node:util";
import { Logger } from "../src/observability/mod.ts";
import {
  instantiateUnisolated,
  loadWasmPlugin,
  prepareModule,
  SAMPLE_REQUEST,
} from "../src/plugins/wasm/mod.ts";
import { quantile } from "./measure.ts";

const ROOT = decodeURIComponent(new URL("..", import.meta.url).pathname);
const PLUGIN = `${ROOT}plugins/wasm-example/plugin.wasm`;

const { values } = parseArgs({
  args: Deno.args,
  options: {
    calls: { type: "string", default: "20000" },
    rounds: { type: "string", default: "3" },
    instances: { type: "string", default: String(Math.min(8, navigator.hardwareConcurrency)) },
    "in-flight": { type: "string", default: "256" },
    json: { type: "string" },
    plugin: { type: "string" },
    isolation: { type: "string", default: "worker" },
  },
});
if (!["worker", "process", "both"].includes(values.isolation)) {
  throw new Error(`--isolation must be worker, process or both, not ${values.isolation}`);
}
const MODES = values.isolation === "both"
  ? (["worker", "process"] as const)
  : [values.isolation as "worker" | "process"];
const CALLS = Number(values.calls);
const ROUNDS = Number(values.rounds);
const INSTANCES = Number(values.instances);
const IN_FLIGHT = Number(values["in-flight"]);

const REQUEST = new TextEncoder().encode(JSON.stringify(SAMPLE_REQUEST));

async function ensurePlugin(): Promise<Uint8Array> {
  if (values.plugin !== undefined) return await Deno.readFile(values.plugin);
  try {
    return await Deno.readFile(PLUGIN);
  } catch {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-read",
        "--allow-write",
        "--allow-env",
        "plugins/wasm-example/build.ts",
      ],
      cwd: ROOT,
    }).output();
    if (!out.success) throw new Error("building the example plugin failed");
    return await Deno.readFile(PLUGIN);
  }
}

interface Result {
  variant: string;
  calls: number;
  p50_us: number;
  p99_us: number;
  calls_per_s: number;
}

/** Runs `total` calls over `lanes` concurrent loops; one lane is a sequential run. */
async function measure(
  variant: string,
  call: () => unknown | Promise<unknown>,
  total: number,
  lanes: number,
): Promise<Result> {
  const samples = new Float64Array(total);
  let next = 0;
  const started = performance.now();
  async function lane(): Promise<void> {
    while (next < total) {
      const i = next++;
      const t0 = performance.now();
      await call();
      samples[i] = performance.now() - t0;
    }
  }
  await Promise.all(Array.from({ length: lanes }, lane));
  const elapsed = performance.now() - started;
  samples.sort();
  return {
    variant,
    calls: total,
    p50_us: quantile(samples, 0.5) * 1000,
    p99_us: quantile(samples, 0.99) * 1000,
    calls_per_s: total / (elapsed / 1000),
  };
}

const sequential = (variant: string, call: () => unknown | Promise<unknown>) =>
  measure(variant, call, CALLS, 1);
const concurrent = (variant: string, call: () => Promise<unknown>) =>
  measure(variant, call, CALLS * 2, IN_FLIGHT);

const bytes = await ensurePlugin();
const logger = new Logger({ level: "warn", format: "text" });
const direct = await instantiateUnisolated(bytes);
const prepared = await prepareModule(bytes, {
  name: "bench",
  path: PLUGIN,
  sha256: null,
  maxMemoryBytes: 64 * 1024 * 1024,
});
const instrumented = await instantiateUnisolated(prepared.module);
const common = {
  name: "bench",
  path: PLUGIN,
  sha256: null,
  config: {},
  maxMemoryBytes: 64 * 1024 * 1024,
  timeoutMs: 1000,
  logger,
  readFile: () => Promise.resolve(bytes),
};
// Per isolation mode: its variant names, one instance (latency) and a pool (throughput).
const hosts = await Promise.all(MODES.map(async (isolation) => {
  const label = isolation === "worker" ? "host" : "process";
  return {
    isolation,
    one: label,
    many: `${label} x${INSTANCES}`,
    single: await loadWasmPlugin({ ...common, isolation, instances: 1 }),
    pool: await loadWasmPlugin({ ...common, isolation, instances: INSTANCES }),
  };
}));

const rounds: Result[][] = [];
try {
  for (let r = 0; r < ROUNDS; r++) {
    const round = [
      await sequential("direct", () => direct.call(REQUEST)),
      await sequential("instrumented", () => instrumented.call(REQUEST)),
    ];
    for (const h of hosts) {
      round.push(await sequential(h.one, () => h.single.call(REQUEST, 1000)));
      round.push(await concurrent(h.many, () => h.pool.call(REQUEST, 1000)));
    }
    rounds.push(round);
  }
} finally {
  for (const h of hosts) {
    await h.single.close();
    await h.pool.close();
  }
}

// Per variant, the median round (by p50) — robust against one disturbed round.
const summary = (rounds[0] ?? []).map((_, v) => {
  const byP50 = rounds.map((round) => round[v]!).sort((a, b) => a.p50_us - b.p50_us);
  return byP50[Math.floor(byP50.length / 2)]!;
});
const fmt = (n: number, d = 1) => n.toFixed(d).padStart(10);
console.log(`variant           calls      p50 µs     p99 µs     calls/s   (${ROUNDS} rounds)`);
for (const s of summary) {
  console.log(
    `${s.variant.padEnd(14)}${String(s.calls).padStart(8)}${fmt(s.p50_us)}${fmt(s.p99_us)}${
      fmt(s.calls_per_s, 0)
    }`,
  );
}
const find = (name: string) => summary.find((s) => s.variant === name)!;
const overheads: Record<string, { overhead_us: number; throughput: number }> = {};
for (const h of hosts) {
  const overhead = find(h.one).p50_us - find("direct").p50_us;
  const throughput = find(h.many).calls_per_s;
  overheads[h.isolation] = { overhead_us: overhead, throughput };
  const goals = h.isolation === "worker";
  console.log(
    `${h.isolation} isolation overhead p50: ${overhead.toFixed(1)} µs` +
      (goals ? ` (goal ≤ 50): ${overhead <= 50 ? "met" : "NOT met"}` : ""),
  );
  console.log(
    `${h.isolation} isolation throughput with ${INSTANCES} instances, ${IN_FLIGHT} in flight: ` +
      `${throughput.toFixed(0)} calls/s` +
      (goals ? ` (goal ≥ 50000): ${throughput >= 50_000 ? "met" : "NOT met"}` : ""),
  );
}
console.log(
  `instrumentation alone (same thread): ${
    (find("instrumented").p50_us - find("direct").p50_us).toFixed(1)
  } µs p50`,
);
if (values.json) {
  await Deno.writeTextFile(
    values.json,
    JSON.stringify({ rounds, summary, isolation: overheads }, null, 2),
  );
}
