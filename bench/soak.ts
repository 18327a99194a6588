/**
 * Soak test: the router as a subprocess (the `start` task's flags) on the plugin dev config
 * (`dev/config.plugins.dev.yaml`: the gRPC example server as its own process, the process example
 * supervised by the router, the WASM example),
 * under steady load from `bench/loadgen.ts`, while the router's RSS (`VmRSS` of
 * `/proc/PID/status`) and open file descriptors (`/proc/PID/fd`) are sampled. It reports
 * start/end RSS after the warm-up and the least-squares RSS slope over all samples after it. V8
 * grows its heap for the first minutes and then collects in a sawtooth (measured at 50 conn/s:
 * 107 MiB at start, 250 MiB after two minutes, then between 202 and 283 MiB with a period of
 * about three minutes), so the warm-up is two minutes and the threshold sits above what that
 * sawtooth alone produces (fits over 5-minute windows of a flat run ranged from 0.3 to 2.6
 * MiB/min). It fails when
 *
 * - the slope exceeds `--max-slope` (KiB/min; default {@link DEFAULT_MAX_SLOPE}: 4 MiB/min,
 *   ~1.4 KiB per connection at 50 conn/s) — long run only: in `--ci`'s minute V8 is still
 *   growing its heap (slopes of 26–160 MiB/min measured), so the CI run reports the slope and
 *   instead fails when the RSS ends above {@link CI_MAX_RSS_KIB} (about twice the 10-minute
 *   steady state), or
 * - the fd count grows: the median of the last three samples exceeds the largest of the first
 *   three after warm-up (a leak grows steadily; a connection in flight does not hold an fd), or
 * - any client failed.
 *
 *   deno task bench:soak [--minutes 10] [--rate 50]      the long run
 *   deno task bench:soak --ci                           ≤ 60 s, run by .ci/run
 *
 * @module
 */

import { parseArgs } from "node:util";
import { type Child, ChildGroup } from "./children.ts";
import type { LoadgenReport } from "./loadgen.ts";
import { clientRunArgs, quantile, runToEnd } from "./measure.ts";
import { startGatehouse } from "./targets.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const SERVER_NAME = "play.example.com";
/** KiB/min the long run may grow by after its warm-up. */
const DEFAULT_MAX_SLOPE = 4096;
/** RSS ceiling of the one-minute CI run (the 10-minute run settles at ~241 MiB). */
const CI_MAX_RSS_KIB = 512 * 1024;

interface SoakOptions {
  readonly minutes: number;
  readonly warmupS: number;
  readonly sampleS: number;
  readonly rate: number;
  readonly port: number;
  /** KiB/min; `null`: report only. */
  readonly maxSlope: number | null;
  /** KiB; `null`: no ceiling. */
  readonly maxRssKiB: number | null;
}

/** One `/proc` sample of the router. */
interface Sample {
  readonly atMin: number;
  readonly rssKiB: number;
  readonly fds: number;
}

/** Output of a `/proc` reader run through a command (Deno wants --allow-all to read `/proc`). */
async function commandText(cmd: string, args: string[]): Promise<string | null> {
  try {
    const out = await new Deno.Command(cmd, { args, stderr: "null" }).output();
    return out.success ? new TextDecoder().decode(out.stdout) : null;
  } catch {
    return null;
  }
}

async function sample(pid: number, t0: number): Promise<Sample | null> {
  const status = await commandText("cat", [`/proc/${pid}/status`]);
  const fd = await commandText("ls", [`/proc/${pid}/fd`]);
  const rss = status && /^VmRSS:\s+(\d+) kB/m.exec(status);
  if (!rss || fd === null) return null;
  const fds = fd.split("\n").filter((l) => l.trim() !== "").length;
  return { atMin: (performance.now() - t0) / 60_000, rssKiB: Number(rss[1]), fds };
}

/** Least-squares slope of `y` over `x`. */
export function slope(points: readonly { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return NaN;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? NaN : num / den;
}

async function ensureWasmBuilt(): Promise<void> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "plugin:wasm:build", "--if-missing"],
    cwd: ROOT,
    stdout: "null",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error("deno task plugin:wasm:build failed");
}

async function startGrpc(group: ChildGroup, port: number): Promise<Child> {
  const child = group.spawn(
    ["task", "plugin:grpc:run", "--listen", `127.0.0.1:${port}`],
    ROOT,
    () => {},
  );
  for (let i = 0; i < 600; i++) {
    if (child.stderrTail.some((l) => l.includes("grpc-example listening on"))) return child;
    if (child.hasExited()) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`gRPC example did not start:\n${child.stderrTail.join("\n")}`);
}

function freeTcpPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = l.addr as Deno.NetAddr;
  l.close();
  return port;
}

async function writeConfig(o: SoakOptions, grpcPort: number): Promise<string> {
  const text = (await Deno.readTextFile(`${ROOT}dev/config.plugins.dev.yaml`))
    .replace(/^listen: .*$/m, `listen: "127.0.0.1:${o.port}"`)
    .replace("address: 127.0.0.1:7777", `address: 127.0.0.1:${grpcPort}`)
    // The copy lives in bench/results/: the process example's paths, relative to dev/, made
    // absolute.
    .replace("module: ../plugins/", `module: ${ROOT}plugins/`)
    .replaceAll("./bans.txt", `${ROOT}dev/bans.txt`) +
    // The load comes from one address at --rate (50/s by default), above the default handshake
    // rate per client: the per-client limits would refuse most of it.
    "\nlimits:\n  max_connections_per_ip: 0\n  handshake_rate: { per_second: 0 }\n";
  await Deno.mkdir(`${ROOT}bench/results`, { recursive: true });
  const path = `${ROOT}bench/results/soak.yaml`;
  await Deno.writeTextFile(path, text);
  return path;
}

async function startLoad(group: ChildGroup, o: SoakOptions): Promise<LoadgenReport> {
  const out = await runToEnd(group, ROOT, [
    ...clientRunArgs("127.0.0.1", SERVER_NAME, "bench/loadgen.ts"),
    `--port=${o.port}`,
    `--rate=${o.rate}`,
    `--duration=${o.minutes * 60 - o.warmupS}`,
    `--warmup=${o.warmupS}`,
    "--timeout=5",
  ]);
  return JSON.parse(out) as LoadgenReport;
}

/** Samples `pid` every `sampleS` until `done` settles. */
async function sampleUntil(pid: number, o: SoakOptions, done: Promise<unknown>) {
  const samples: Sample[] = [];
  const t0 = performance.now();
  let finished = false;
  done.finally(() => finished = true).catch(() => {});
  while (!finished) {
    const s = await sample(pid, t0);
    if (s) samples.push(s);
    await Promise.race([done.catch(() => {}), new Promise((r) => setTimeout(r, o.sampleS * 1000))]);
  }
  return samples;
}

/** Runs the soak and returns the verdict lines and whether it passed. */
async function soak(o: SoakOptions): Promise<{ lines: string[]; ok: boolean; data: unknown }> {
  await ensureWasmBuilt();
  const group = new ChildGroup();
  try {
    const grpcPort = freeTcpPort();
    await startGrpc(group, grpcPort);
    const target = await startGatehouse(group, ROOT, await writeConfig(o, grpcPort));
    const pid = target.pid;
    const load = startLoad(group, o);
    const samples = await sampleUntil(pid, o, load);
    return verdict(o, samples, await load);
  } finally {
    await group.stopAll(5_000);
  }
}

function verdict(o: SoakOptions, samples: readonly Sample[], load: LoadgenReport) {
  const warm = samples.filter((s) => s.atMin * 60 >= o.warmupS);
  const first = warm[0];
  const last = warm.at(-1);
  if (!first || !last || warm.length < 6) throw new Error(`too few samples (${warm.length})`);
  const kibPerMin = slope(warm.map((s) => ({ x: s.atMin, y: s.rssKiB })));
  const fdStart = Math.max(...warm.slice(0, 3).map((s) => s.fds));
  const fdEnd = [...warm.slice(-3).map((s) => s.fds)].sort((a, b) => a - b)[1]!;
  const errors = Object.values(load.errors).reduce((a, b) => a + b, 0);
  const p99 = quantile(Float64Array.from(load.latencyMs).sort(), 0.99);
  const checks = [
    ...(o.maxSlope === null ? [] : [
      { ok: kibPerMin <= o.maxSlope, what: `RSS slope ≤ ${o.maxSlope} KiB/min` },
    ]),
    ...(o.maxRssKiB === null ? [] : [
      { ok: last.rssKiB <= o.maxRssKiB, what: `RSS ends ≤ ${o.maxRssKiB / 1024} MiB` },
    ]),
    { ok: fdEnd <= fdStart, what: `fds do not grow (${fdStart} → ${fdEnd})` },
    { ok: errors === 0 && load.completed > 0, what: `no client errors (${errors})` },
  ];
  const lines = [
    `soak: ${o.minutes} min at ${o.rate} conn/s, warm-up ${o.warmupS} s, ${warm.length} samples`,
    `RSS start ${(first.rssKiB / 1024).toFixed(1)} MiB, end ${
      (last.rssKiB / 1024).toFixed(1)
    } MiB, ` +
    `slope ${kibPerMin.toFixed(0)} KiB/min; fds ${first.fds} → ${last.fds}`,
    `clients: ${load.completed} referrals, ${errors} errors, p99 ${p99.toFixed(1)} ms`,
    ...checks.map((c) => `${c.ok ? "ok  " : "FAIL"} ${c.what}`),
  ];
  return { lines, ok: checks.every((c) => c.ok), data: { options: o, samples, kibPerMin } };
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      minutes: { type: "string", default: "10" },
      rate: { type: "string", default: "50" },
      port: { type: "string", default: "15540" },
      ci: { type: "boolean", default: false },
      "max-slope": { type: "string" },
      json: { type: "string" },
    },
  });
  const ci = values.ci;
  const o: SoakOptions = {
    minutes: ci ? 0.75 : Number(values.minutes),
    warmupS: ci ? 10 : 120,
    sampleS: ci ? 1 : 5,
    rate: Number(values.rate),
    port: Number(values.port),
    maxSlope: values["max-slope"] ? Number(values["max-slope"]) : ci ? null : DEFAULT_MAX_SLOPE,
    maxRssKiB: ci ? CI_MAX_RSS_KIB : null,
  };
  const { lines, ok, data } = await soak(o);
  for (const line of lines) console.log(line);
  if (values.json) await Deno.writeTextFile(values.json, JSON.stringify(data, null, 2));
  return ok ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main());
