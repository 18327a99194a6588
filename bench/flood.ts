/**
 * Flood benchmarks: the router (a subprocess with the `start` task's flags, on
 * `bench/config.bench.yaml` plus each mode's overrides) under attack from one address
 * (127.0.0.1, `bench/flood_clients.ts`), while well-behaved clients from another loopback
 * address (127.0.0.2, `bench/loadgen.ts --bind`) arrive at a steady rate. Each run reports the
 * well-behaved clients' success, p50 and p99, the router's CPU and its RSS (sampled every 200 ms).
 *
 *   deno task bench:flood [--scenario hold|storm|streams|cost|all] [--duration 10] [--rounds 2]
 *
 * Scenarios (modes alternate A B B A over `--rounds`):
 * - `hold` (default): `--attack-rate` connections/s, each completing a Connect and then held
 *   until the router closes it; `max_connections_per_ip` off vs `--limit`.
 * - `storm`: one address opening connections as fast as it can (`--workers` loops); limits off
 *   vs `--storm-limits` (a YAML map merged into the config; default: the shipped defaults,
 *   `handshake_rate` 20/s burst 40 and 32 connections per client).
 * - `streams`: `--attackers` connections (default 32) that each fill every stream they may
 *   (without, then with 2 MiB of QUIC datagrams each), never a whole Connect, replaced as
 *   connect_timeout closes them; the shipped default limits.
 * - `cost`: router CPU per connection at `--cost-rate`/s (`--count` connections after a warm-up
 *   of 300): served (limits off), refused at admission once the address is known
 *   (`access.deny` of the attacker), and refused unaccepted while full (`max_connections` 1,
 *   held by one silent connection).
 *
 * Linux routes all of 127.0.0.0/8 to loopback, so a socket bound to 127.0.0.2 reaches a router on
 * 127.0.0.1 and the router sees 127.0.0.2 as the client address.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { ChildGroup } from "./children.ts";
import type { AttackReport } from "./flood_clients.ts";
import type { LoadgenReport } from "./loadgen.ts";
import { clientRunArgs, processCpuMs, processRssKiB, quantile, runToEnd } from "./measure.ts";
import { startGatehouse, type Target } from "./targets.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const SERVER_NAME = "play.example.com";
const ATTACKER = "127.0.0.1";
const GOOD = "127.0.0.2";
const HOSTS = `${ATTACKER},${GOOD}`;
const RSS_SAMPLE_MS = 200;

/** Config overrides (merged into `bench/config.bench.yaml`; `limits` key by key). */
type Overrides = Record<string, unknown>;

/** One mode of a scenario: a config and what the attacker does. */
interface ModeSpec {
  readonly label: string;
  readonly overrides: Overrides;
  /** `flood_clients.ts` arguments after the role's defaults. */
  readonly attack: readonly string[];
  /** Run well-behaved clients beside the attack. */
  readonly good: boolean;
  /** `flood_clients.ts` arguments of a warm-up run before measuring (`cost`). */
  readonly warmup?: readonly string[];
}

/** What one run of one mode measured. */
interface RunResult {
  readonly scenario: string;
  readonly mode: string;
  readonly good: GoodSummary | null;
  readonly attack: AttackReport;
  readonly routerCpuMs: number;
  readonly routerCpuPct: number;
  readonly rssMiB: { readonly start: number; readonly max: number; readonly end: number };
}

interface GoodSummary {
  readonly scheduled: number;
  readonly completed: number;
  readonly errors: Readonly<Record<string, number>>;
  readonly p50: number;
  readonly p99: number;
}

interface FloodOptions {
  readonly port: number;
  readonly durationS: number;
  readonly warmupS: number;
  readonly goodRate: number;
  readonly rounds: number;
}

/** Writes the bench config with `overrides` and a fixed `listen`; returns its path. */
async function writeConfig(port: number, name: string, overrides: Overrides): Promise<string> {
  const base = parseYaml(await Deno.readTextFile(`${ROOT}bench/config.bench.yaml`)) as Overrides;
  const limits = { ...(base.limits as Overrides), ...(overrides.limits as Overrides ?? {}) };
  const doc = {
    ...base,
    ...overrides,
    limits,
    listen: `127.0.0.1:${port}`,
    logging: { log_client_ip: false },
  };
  await Deno.mkdir(`${ROOT}bench/results`, { recursive: true });
  const path = `${ROOT}bench/results/flood.${name}.yaml`;
  await Deno.writeTextFile(path, stringifyYaml(doc));
  return path;
}

/** Samples the router's RSS until stopped; `stop` returns start / max / end in MiB. */
function sampleRss(pid: number): { stop(): Promise<RunResult["rssMiB"]> } {
  const samples: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const kib = await processRssKiB(pid);
      if (Number.isFinite(kib)) samples.push(kib / 1024);
      await new Promise((r) => setTimeout(r, RSS_SAMPLE_MS));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { start: samples[0] ?? NaN, max: Math.max(...samples), end: samples.at(-1) ?? NaN };
    },
  };
}

function attackArgs(o: FloodOptions, extra: readonly string[]): string[] {
  return [
    ...clientRunArgs(ATTACKER, SERVER_NAME, "bench/flood_clients.ts"),
    `--port=${o.port}`,
    `--duration=${o.durationS + o.warmupS}`,
    ...extra,
  ];
}

function goodArgs(o: FloodOptions): string[] {
  return [
    ...clientRunArgs(HOSTS, SERVER_NAME, "bench/loadgen.ts"),
    `--host=${ATTACKER}`,
    `--bind=${GOOD}`,
    `--port=${o.port}`,
    `--rate=${o.goodRate}`,
    `--duration=${o.durationS}`,
    `--warmup=${o.warmupS}`,
    "--timeout=5",
  ];
}

/** Starts the router on `spec`'s config, runs the attack (and good clients), stops it. */
async function runMode(
  group: ChildGroup,
  o: FloodOptions,
  scenario: string,
  spec: ModeSpec,
): Promise<RunResult> {
  const config = await writeConfig(o.port, `${scenario}.${spec.label}`, spec.overrides);
  const target: Target = await startGatehouse(group, ROOT, config);
  try {
    if (spec.warmup) await runToEnd(group, ROOT, attackArgs(o, spec.warmup));
    const rss = sampleRss(target.pid);
    const cpu0 = await processCpuMs(target.pid);
    const t0 = performance.now();
    const [attackOut, goodOut] = await Promise.all([
      runToEnd(group, ROOT, attackArgs(o, spec.attack)),
      spec.good ? runToEnd(group, ROOT, goodArgs(o)) : Promise.resolve(null),
    ]);
    const routerCpuMs = await processCpuMs(target.pid) - cpu0;
    const wallMs = performance.now() - t0;
    return {
      scenario,
      mode: spec.label,
      good: goodOut === null ? null : summarize(JSON.parse(goodOut) as LoadgenReport),
      attack: JSON.parse(attackOut) as AttackReport,
      routerCpuMs,
      routerCpuPct: 100 * routerCpuMs / wallMs,
      rssMiB: await rss.stop(),
    };
  } finally {
    await group.stop(target.child, 5_000);
  }
}

function summarize(good: LoadgenReport): GoodSummary {
  const samples = Float64Array.from(good.latencyMs).sort();
  return {
    scheduled: good.scheduled,
    completed: good.completed,
    errors: good.errors,
    p50: quantile(samples, 0.5),
    p99: quantile(samples, 0.99),
  };
}

/** The modes of `scenario` (A, B), from the command line. */
function modesOf(scenario: string, v: Record<string, string>): ModeSpec[] {
  const off: Overrides = {};
  switch (scenario) {
    case "hold": {
      const attack = ["--role=hold", `--attack-rate=${v["attack-rate"]}`, `--attackers=1000`];
      const on = { limits: { max_connections_per_ip: Number(v.limit) } };
      return [
        { label: "off", overrides: off, attack, good: true },
        { label: `per-ip-${v.limit}`, overrides: on, attack, good: true },
      ];
    }
    case "storm": {
      const attack = ["--role=storm", `--workers=${v.workers}`];
      const on = { limits: parseYaml(v["storm-limits"]!) as Overrides };
      return [
        { label: "off", overrides: off, attack, good: true },
        { label: "limits", overrides: on, attack, good: true },
      ];
    }
    case "streams": {
      const attack = ["--role=streams", `--attackers=${v.attackers}`];
      const overrides = { limits: SHIPPED_LIMITS };
      return [
        { label: "streams", overrides, attack: [...attack, "--datagram-bytes=0"], good: true },
        { label: "streams+datagrams", overrides, attack, good: true },
      ];
    }
    default: {
      // The same offered load for both modes: served connections take longer than refused ones,
      // and per-connection CPU falls as load rises (I/O batching).
      const pace = ["--paced", `--attack-rate=${v["cost-rate"]}`];
      const attack = ["--role=storm", `--workers=${v.workers}`, `--count=${v.count}`, ...pace];
      const warmup = ["--role=storm", `--workers=${v.workers}`, "--count=300", ...pace];
      const deny = { access: { deny: [`${ATTACKER}/32`] } };
      // One connection that sends nothing fills the router: the rest are refused unaccepted.
      const full = { limits: { max_connections: 1, connect_timeout: "60s" } };
      const held = ["--holders=1"];
      return [
        { label: "served", overrides: off, attack, warmup, good: false },
        { label: "refused", overrides: deny, attack, warmup, good: false },
        { label: "full", overrides: full, attack: [...held, ...attack], warmup, good: false },
      ];
    }
  }
}

/** The admission limits a config gets when it sets none (README, Operating notes). */
const SHIPPED_LIMITS = {
  max_connections_per_ip: 32,
  handshake_rate: { per_second: 20, burst: 40 },
  max_connections: 10_000,
};

const fmt = (n: number, digits = 1) => Number.isFinite(n) ? n.toFixed(digits) : "—";

function row(r: RunResult): string {
  const g = r.good;
  const a = r.attack;
  const rate = a.connections / (a.elapsedMs / 1000);
  return [
    r.scenario,
    r.mode,
    g ? `${g.completed}/${g.scheduled}` : "—",
    g ? fmt(g.p50) : "—",
    g ? fmt(g.p99) : "—",
    `${a.connections} (${fmt(rate, 0)}/s) / ${a.served} / ${a.refused} / ${a.failed}`,
    fmt(r.routerCpuPct, 0),
    fmt(1000 * r.routerCpuMs / Math.max(1, a.connections), 0),
    `${fmt(r.rssMiB.start)} / ${fmt(r.rssMiB.max)} / ${fmt(r.rssMiB.end)}`,
    g ? JSON.stringify(g.errors) : "",
  ].join(" | ");
}

function printResults(results: readonly RunResult[]): void {
  console.log(
    "scenario | mode | good ok | good p50 ms | good p99 ms | attacker conns (rate) / served / " +
      "refused / failed | router CPU % | router CPU µs per attacker conn | router RSS MiB " +
      "start / max / end | good errors",
  );
  for (const r of results) console.log(row(r));
  printCost(results.filter((r) => r.scenario === "cost"));
}

/** Router CPU per connection of each refusal mode against a served one (means over rounds). */
function printCost(results: readonly RunResult[]): void {
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const of = (mode: string) =>
    mean(
      results.filter((r) => r.mode === mode)
        .map((r) => r.routerCpuMs / Math.max(1, r.attack.connections)),
    );
  const served = of("served");
  for (const mode of ["refused", "full"]) {
    const cost = of(mode);
    if (!Number.isFinite(served) || !Number.isFinite(cost)) continue;
    console.log(
      `cost: ${mode} ${fmt(1000 * cost, 0)} µs vs served ${fmt(1000 * served, 0)} µs per ` +
        `connection (router CPU): ${fmt(100 * cost / served)} %`,
    );
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      scenario: { type: "string", default: "hold" },
      port: { type: "string", default: "15530" },
      "attack-rate": { type: "string", default: "400" },
      limit: { type: "string", default: "8" },
      workers: { type: "string", default: "32" },
      attackers: { type: "string", default: "32" },
      count: { type: "string", default: "3000" },
      "cost-rate": { type: "string", default: "300" },
      "storm-limits": { type: "string", default: JSON.stringify(SHIPPED_LIMITS) },
      rate: { type: "string", default: "10" },
      duration: { type: "string", default: "10" },
      warmup: { type: "string", default: "1" },
      rounds: { type: "string", default: "2" },
      json: { type: "string" },
    },
  });
  const o: FloodOptions = {
    port: Number(values.port),
    durationS: Number(values.duration),
    warmupS: Number(values.warmup),
    goodRate: Number(values.rate),
    rounds: Number(values.rounds),
  };
  const known = ["hold", "storm", "streams", "cost"];
  const scenarios = values.scenario === "all" ? known : [values.scenario];
  if (!known.includes(values.scenario) && values.scenario !== "all") {
    throw new Error(`unknown --scenario ${values.scenario} (${known.join(", ")} or all)`);
  }
  const group = new ChildGroup();
  Deno.addSignalListener("SIGINT", () => {
    group.killAllNow();
    Deno.exit(130);
  });
  const results: RunResult[] = [];
  try {
    for (const scenario of scenarios) {
      const modes = modesOf(scenario, values as Record<string, string>);
      for (let round = 0; round < o.rounds; round++) {
        const order = round % 2 === 0 ? modes : [...modes].reverse();
        for (const spec of order) results.push(await runMode(group, o, scenario, spec));
      }
    }
  } finally {
    await group.stopAll(5_000);
  }
  console.log(
    `flood: attacker ${ATTACKER}, well-behaved ${o.goodRate}/s from ${GOOD}, ` +
      `${o.durationS} s per run`,
  );
  printResults(results);
  if (values.json) await Deno.writeTextFile(values.json, JSON.stringify(results, null, 2));
}

if (import.meta.main) await main();
