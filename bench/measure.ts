/**
 * One measured step: K load-generator processes against one target at one rate, plus what the
 * kernel says about the target process (CPU time) and UDP (receive-buffer drops) meanwhile.
 *
 * @module
 */

import type { ChildGroup } from "./children.ts";
import type { LoadgenReport } from "./loadgen.ts";
import type { Target } from "./targets.ts";

/** Load shape of one step. */
export interface StepSpec {
  readonly rate: number;
  readonly durationS: number;
  /** Unmeasured arrivals at the same rate before the measured ones (load-generator warm-up). */
  readonly warmupS: number;
  readonly procs: number;
  readonly maxInFlight: number;
  readonly timeoutS: number;
  readonly serverName: string;
}

/** What one step measured, all load-generator processes merged. */
export interface StepResult {
  readonly target: Target["name"];
  readonly offered: number;
  readonly achieved: number;
  readonly completed: number;
  readonly errors: number;
  readonly errorKinds: Readonly<Record<string, number>>;
  readonly capped: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  /** Median of connect start → handshake done. */
  readonly handshakeP50: number;
  /** Server process CPU (user + system, all threads) per connection served, µs. */
  readonly serverCpuUsPerConn: number;
  /** Server process CPU over the step's wall time, % of one core. */
  readonly serverCpuPct: number;
  /** All load-generator processes' CPU over the step's wall time, % of one core. */
  readonly loadgenCpuPct: number;
  /** p99 of how late the load generators started arrivals (their own saturation). */
  readonly lagP99: number;
  /**
   * CPU the rest of the host used meanwhile (all CPUs busy, minus the server under test and the
   * load generators), % of one core: other tenants, and the kernel's share of the traffic.
   */
  readonly otherCpuPct: number;
  /** UDP datagrams the kernel dropped for want of receive buffer (`RcvbufErrors`), all sockets. */
  readonly udpDrops: number;
  readonly replyBytes: number | null;
  /** Latency samples (ms), kept for pooling repeated steps; left out of the JSON report. */
  readonly samples: Float64Array;
}

/** Clock ticks per second of `/proc/<pid>/stat` (USER_HZ; 100 on Linux). */
const USER_HZ = 100;
/** Extra time a load generator gets beyond its schedule and timeout before it is killed. */
const WATCHDOG_SLACK_MS = 20_000;

/** Runs one step against `target` and merges the reports of all load-generator processes. */
export async function runStep(
  group: ChildGroup,
  root: string,
  target: Target,
  spec: StepSpec,
): Promise<StepResult> {
  const cpuBefore = await processCpuMs(target.pid);
  const dropsBefore = await udpRcvbufErrors();
  const hostBefore = await hostBusyMs();
  const started = performance.now();
  const reports = await Promise.all(
    Array.from({ length: spec.procs }, () => runLoadgen(group, root, target, spec)),
  );
  const wallMs = performance.now() - started;
  const serverCpuMs = await processCpuMs(target.pid) - cpuBefore;
  const udpDrops = await udpRcvbufErrors() - dropsBefore;
  const hostMs = await hostBusyMs() - hostBefore;
  const loadgenMs = reports.reduce((sum, r) => sum + r.processCpuMs, 0);
  // Tick rounding and process start-up can make it read a little below zero on a quiet host.
  const otherCpuPct = Math.max(0, 100 * (hostMs - serverCpuMs - loadgenMs) / wallMs);
  return merge(target.name, spec, reports, { serverCpuMs, udpDrops, otherCpuPct });
}

function merge(
  name: Target["name"],
  spec: StepSpec,
  reports: readonly LoadgenReport[],
  sys: { serverCpuMs: number; udpDrops: number; otherCpuPct: number },
): StepResult {
  const samples = Float64Array.from(reports.flatMap((r) => r.latencyMs)).sort();
  const handshakes = Float64Array.from(reports.flatMap((r) => r.handshakeMs)).sort();
  const errorKinds: Record<string, number> = {};
  for (const r of reports) {
    for (const [kind, n] of Object.entries(r.errors)) {
      errorKinds[kind] = (errorKinds[kind] ?? 0) + n;
    }
  }
  const completed = samples.length;
  const elapsedMs = Math.max(...reports.map((r) => r.elapsedMs));
  const totalElapsedMs = Math.max(...reports.map((r) => r.totalElapsedMs));
  // The server also served the load generators' warm-up connections.
  const served = completed + reports.reduce((sum, r) => sum + r.warmupCompleted, 0);
  // Load-generator CPU covers the measured part only.
  const loadgenCpuMs = reports.reduce((sum, r) => sum + r.cpuMs, 0);
  return {
    target: name,
    offered: spec.rate,
    achieved: completed / (elapsedMs / 1000),
    completed,
    errors: Object.values(errorKinds).reduce((a, b) => a + b, 0),
    errorKinds,
    capped: reports.reduce((sum, r) => sum + r.capped, 0),
    p50: quantile(samples, 0.5),
    p90: quantile(samples, 0.9),
    p99: quantile(samples, 0.99),
    max: samples.at(-1) ?? NaN,
    handshakeP50: quantile(handshakes, 0.5),
    serverCpuUsPerConn: served > 0 ? sys.serverCpuMs * 1000 / served : NaN,
    serverCpuPct: 100 * sys.serverCpuMs / totalElapsedMs,
    loadgenCpuPct: 100 * loadgenCpuMs / elapsedMs,
    lagP99: Math.max(...reports.map((r) => r.lagP99Ms)),
    otherCpuPct: sys.otherCpuPct,
    udpDrops: sys.udpDrops,
    replyBytes: reports.find((r) => r.replyBytes !== null)?.replyBytes ?? null,
    samples,
  };
}

/**
 * Nearest-rank quantile of ascending `sorted`: the smallest sample with at least `q` of all
 * samples at or below it, i.e. `sorted[ceil(q·n) − 1]` (q ≤ 0 reads the minimum, q ≥ 1 the
 * maximum); NaN when empty. Always an observed sample, never an interpolation. The one percentile
 * of every benchmark in bench/, so their p50/p99 compare; `loadgen.ts` imports it too, which is
 * why this module keeps to type-only imports (it runs in each load-generator process).
 */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1]!;
}

/**
 * `deno run` arguments of a QUIC client script: net to `hosts`; certificate checks skipped for
 * `serverName` only (the routing key is the server name, and the router's certificate is
 * self-signed).
 */
export function clientRunArgs(hosts: string, serverName: string, script: string): string[] {
  return [
    "run",
    "--unstable-net",
    "--no-prompt",
    `--allow-net=${hosts}`,
    `--unsafely-ignore-certificate-errors=${serverName}`,
    script,
  ];
}

/** Runs one child to its end and returns its stdout; fails naming its exit code and stderr. */
export async function runToEnd(group: ChildGroup, root: string, args: string[]): Promise<string> {
  let out = "";
  const child = group.spawn(args, root, (line) => out += line);
  const code = await child.exited;
  if (code !== 0) throw new Error(`${args.join(" ")} → ${code}\n${child.stderrTail.join("\n")}`);
  return out;
}

/** Starts one load-generator process and returns its report; kills it if it overruns. */
async function runLoadgen(
  group: ChildGroup,
  root: string,
  target: Target,
  spec: StepSpec,
): Promise<LoadgenReport> {
  let out = "";
  const child = group.spawn(
    [
      ...clientRunArgs("127.0.0.1", spec.serverName, "bench/loadgen.ts"),
      `--host=${target.hostname}`,
      `--port=${target.port}`,
      `--server-name=${spec.serverName}`,
      `--rate=${spec.rate / spec.procs}`,
      `--duration=${spec.durationS}`,
      `--warmup=${spec.warmupS}`,
      `--max-in-flight=${Math.max(1, Math.ceil(spec.maxInFlight / spec.procs))}`,
      `--timeout=${spec.timeoutS}`,
    ],
    root,
    (line) => out += line,
  );
  const limitMs = (spec.warmupS + spec.durationS + spec.timeoutS) * 1000 + WATCHDOG_SLACK_MS;
  const watchdog = setTimeout(() => group.stop(child, 0), limitMs);
  const code = await child.exited.finally(() => clearTimeout(watchdog));
  if (code !== 0 || out === "") {
    throw new Error(
      `loadgen against ${target.name} exited with code ${code}:\n${child.stderrTail.join("\n")}`,
    );
  }
  return JSON.parse(out) as LoadgenReport;
}

/**
 * Reads a `/proc` file through `cat`: Deno asks for --allow-all to read anything under `/proc`,
 * while the bench task grants --allow-run (it starts the servers and load generators anyway).
 */
async function readProc(path: string): Promise<string | null> {
  try {
    const out = await new Deno.Command("cat", { args: [path], stderr: "null" }).output();
    return out.success ? new TextDecoder().decode(out.stdout) : null;
  } catch {
    return null;
  }
}

/** CPU time (user + system, all threads) of process `pid` so far, ms; NaN if unreadable. */
export async function processCpuMs(pid: number): Promise<number> {
  const stat = await readProc(`/proc/${pid}/stat`);
  if (stat === null) return NaN;
  // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 1000 / USER_HZ;
}

/** Resident set size (`VmRSS`) of process `pid`, KiB; NaN if unreadable. */
export async function processRssKiB(pid: number): Promise<number> {
  const status = await readProc(`/proc/${pid}/status`);
  const kib = status === null ? null : /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
  return kib ? Number(kib) : NaN;
}

/** Busy time of all CPUs so far (everything in `/proc/stat` but idle and iowait), ms. */
export async function hostBusyMs(): Promise<number> {
  const stat = await readProc("/proc/stat");
  const cpu = stat?.split("\n").find((l) => l.startsWith("cpu "));
  if (!cpu) return NaN;
  // cpu user nice system idle iowait irq softirq steal (guest time is already in user)
  const t = cpu.split(/\s+/).slice(1, 9).map(Number);
  const busy = (t[0] ?? 0) + (t[1] ?? 0) + (t[2] ?? 0) + (t[5] ?? 0) + (t[6] ?? 0) + (t[7] ?? 0);
  return busy * 1000 / USER_HZ;
}

/** The kernel's count of UDP datagrams dropped for a full receive buffer; NaN if unreadable. */
export async function udpRcvbufErrors(): Promise<number> {
  const snmp = await readProc("/proc/net/snmp");
  const lines = (snmp ?? "").split("\n").filter((l) => l.startsWith("Udp: "));
  const names = lines[0]?.split(/\s+/) ?? [];
  const values = lines[1]?.split(/\s+/) ?? [];
  const i = names.indexOf("RcvbufErrors");
  return i < 0 ? NaN : Number(values[i]);
}

/** A `net.core` sysctl as a number (e.g. `rmem_default`); null if unreadable. */
export async function netCoreSysctl(name: string): Promise<number | null> {
  const text = await readProc(`/proc/sys/net/core/${name}`);
  const n = Number(text?.trim());
  return text !== null && Number.isFinite(n) ? n : null;
}
