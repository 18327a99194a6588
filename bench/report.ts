/**
 * Turns measured steps into the benchmark's verdict and its markdown tables.
 *
 * @module
 */

import { quantile, type StepResult } from "./measure.ts";

/** Which part of the run a step belongs to. */
export type Phase = "latency" | "ramp" | "refine";

/** A measured step and the phase it was run for. */
export interface Step extends StepResult {
  readonly phase: Phase;
  /** Whether the step met the sustainability rule (see `isSustained`). */
  readonly sustained: boolean;
  /** Whether other processes took enough CPU during the step to skew it (kept after retries). */
  readonly disturbed: boolean;
}

/** The project's goals (CONTRIBUTING: checked by benchmarks, as ratios measured side by side). */
export const GOALS = { minConnRatio: 0.9, maxP50DeltaMs: 0.5 } as const;

/** Per-target figures of the summary. */
export interface TargetSummary {
  /** Highest rate that met the rule, 0 if none did. */
  readonly maxSustained: number;
  /** True when no tested rate failed, so the real maximum is higher. */
  readonly maxIsLowerBound: boolean;
  /** Latency phase, samples pooled over its repeats. */
  readonly p50: number;
  readonly p99: number;
  readonly serverCpuUsPerConn: number;
  readonly latencyRuns: number;
}

/** The verdict against `GOALS`. */
export interface Summary {
  readonly bare: TargetSummary;
  readonly gatehouse: TargetSummary;
  /** Gatehouse max sustained conn/s ÷ bare's. */
  readonly connRatio: number;
  /** Gatehouse p50 − bare p50 at the fixed rate, ms. */
  readonly p50DeltaMs: number;
  /** Bare CPU per connection ÷ Gatehouse's: the conn/s ratio a server-bound host would see. */
  readonly cpuRatio: number;
  readonly connGoalMet: boolean;
  readonly p50GoalMet: boolean;
}

/**
 * A rate is sustained when every arrival was served (no errors, none skipped at the in-flight
 * cap), throughput kept up with the offer, and p99 stayed within the bound. (conn/s counts until
 * the last reply, so a step that kept up still reads a little under the offer.)
 */
export function isSustained(r: StepResult, p99BoundMs: number): boolean {
  return r.errors === 0 && r.capped === 0 && r.achieved >= 0.95 * r.offered &&
    r.p99 <= p99BoundMs;
}

/** The summary of all steps. */
export function summarize(steps: readonly Step[]): Summary {
  const bare = summarizeTarget(steps, "bare");
  const gatehouse = summarizeTarget(steps, "gatehouse");
  const connRatio = gatehouse.maxSustained / bare.maxSustained;
  const p50DeltaMs = gatehouse.p50 - bare.p50;
  return {
    bare,
    gatehouse,
    connRatio,
    p50DeltaMs,
    cpuRatio: bare.serverCpuUsPerConn / gatehouse.serverCpuUsPerConn,
    connGoalMet: connRatio >= GOALS.minConnRatio,
    p50GoalMet: p50DeltaMs <= GOALS.maxP50DeltaMs,
  };
}

function summarizeTarget(steps: readonly Step[], target: Step["target"]): TargetSummary {
  const mine = steps.filter((s) => s.target === target);
  const loadSteps = mine.filter((s) => s.phase !== "latency");
  const passed = loadSteps.filter((s) => s.sustained).map((s) => s.offered);
  const maxSustained = Math.max(0, ...passed);
  const latency = mine.filter((s) => s.phase === "latency");
  const pooled = Float64Array.from(latency.flatMap((s) => [...s.samples])).sort();
  const cpuMs = latency.reduce((sum, s) => sum + s.serverCpuUsPerConn * s.completed, 0);
  const completed = latency.reduce((sum, s) => sum + s.completed, 0);
  return {
    maxSustained,
    maxIsLowerBound: loadSteps.length > 0 &&
      !loadSteps.some((s) => !s.sustained && s.offered > maxSustained),
    p50: quantile(pooled, 0.5),
    p99: quantile(pooled, 0.99),
    serverCpuUsPerConn: cpuMs / completed,
    latencyRuns: latency.length,
  };
}

const f = (x: number, digits = 2) => Number.isFinite(x) ? x.toFixed(digits) : "–";
const int = (x: number) => Number.isFinite(x) ? Math.round(x).toString() : "–";

/** One row per step, in the order they ran. */
export function stepsTable(steps: readonly Step[], p99BoundMs: number): string {
  const head = [
    "| # | phase | target | offered/s | conn/s | p50 ms | p90 ms | p99 ms | errors | skipped |" +
    " srv CPU µs/conn | srv CPU % | loadgen CPU % | other CPU % | UDP drops | ok |",
    "|--:|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|:-:|",
  ];
  const rows = steps.map((s, i) => {
    const errs = s.errors === 0 ? "0" : `${s.errors} ${JSON.stringify(s.errorKinds)}`;
    const ok = (s.phase === "latency" ? "" : s.sustained ? "✓" : "✗") + (s.disturbed ? " ⚠" : "");
    return `| ${i + 1} | ${s.phase} | ${s.target} | ${int(s.offered)} | ${int(s.achieved)} | ` +
      `${f(s.p50)} | ${f(s.p90)} | ${f(s.p99)} | ${errs} | ${s.capped} | ` +
      `${int(s.serverCpuUsPerConn)} | ${int(s.serverCpuPct)} | ${int(s.loadgenCpuPct)} | ` +
      `${int(s.otherCpuPct)} | ` +
      `${int(s.udpDrops)} | ${ok} |`;
  });
  const note =
    `\n✓ = sustained: 0 errors, 0 skipped at the in-flight cap, conn/s ≥ 95 % of offered, ` +
    `p99 ≤ ${p99BoundMs} ms (a failed rate is run twice). ⚠ = other processes used ` +
    `a lot of CPU meanwhile.`;
  return [...head, ...rows].join("\n") + note;
}

/**
 * The comparison against the goals. A `--quick` run's steps are too short to judge by (one
 * scheduling stall moves a 1-second step's p50), so it shows the figures without a verdict.
 */
export function summaryTable(
  s: Summary,
  fixedRate: number,
  p99BoundMs: number,
  smoke: boolean,
): string {
  const verdict = (met: boolean) =>
    smoke ? "smoke run: no verdict" : met ? "**met**" : "**not met**";
  const bound = (t: TargetSummary) => `${t.maxIsLowerBound ? "≥ " : ""}${int(t.maxSustained)}`;
  return [
    "| metric | bare | gatehouse | gatehouse vs bare | goal | |",
    "|---|--:|--:|--:|--:|---|",
    `| max sustained conn/s (p99 ≤ ${p99BoundMs} ms, 0 errors) | ${bound(s.bare)} | ` +
    `${bound(s.gatehouse)} | ${f(100 * s.connRatio, 1)} % | ≥ ${100 * GOALS.minConnRatio} % | ` +
    `${verdict(s.connGoalMet)} |`,
    `| p50 at ${fixedRate}/s, ms (${s.bare.latencyRuns}+${s.gatehouse.latencyRuns} runs pooled) | ` +
    `${f(s.bare.p50, 3)} | ${f(s.gatehouse.p50, 3)} | ${s.p50DeltaMs >= 0 ? "+" : ""}` +
    `${f(s.p50DeltaMs, 3)} ms | ≤ +${GOALS.maxP50DeltaMs} ms | ${verdict(s.p50GoalMet)} |`,
    `| p99 at ${fixedRate}/s, ms | ${f(s.bare.p99)} | ${f(s.gatehouse.p99)} | ` +
    `${s.gatehouse.p99 - s.bare.p99 >= 0 ? "+" : ""}${f(s.gatehouse.p99 - s.bare.p99)} ms | | |`,
    `| server CPU per connection at ${fixedRate}/s, µs | ${int(s.bare.serverCpuUsPerConn)} | ` +
    `${int(s.gatehouse.serverCpuUsPerConn)} | ${f(100 * s.cpuRatio, 1)} % (bare ÷ gatehouse) | | |`,
  ].join("\n");
}

/** Caveats the steps themselves show; one line each, empty when there are none. */
export function caveats(steps: readonly Step[]): string[] {
  const out: string[] = [];
  const drops = steps.reduce((n, s) => n + (Number.isFinite(s.udpDrops) ? s.udpDrops : 0), 0);
  if (drops > 0) {
    out.push(
      `- The kernel dropped ${drops} UDP datagrams (full receive buffer) during the run; each ` +
        `lost handshake packet costs ~1 s, so affected rows measure the buffer, not the server.`,
    );
  }
  const disturbed = steps.filter((s) => s.disturbed).length;
  if (disturbed > 0) {
    out.push(
      `- ⚠ ${disturbed} step(s) ran while other processes used a lot of CPU (even after retries): ` +
        `their figures are skewed; rerun when the host is quiet.`,
    );
  }
  const busy = steps.filter((s) => !s.sustained && s.phase !== "latency" && s.loadgenCpuPct >= 90);
  if (busy.length > 0) {
    out.push(
      `- The load generator was at ≥ 90 % of a core in ${busy.length} failed step(s): on this ` +
        `host the ramp finds where client and server together run out of CPU; the server CPU ` +
        `per connection row compares the servers alone.`,
    );
  }
  return out;
}

/** A step's figures without its latency samples, for the JSON report. */
export function withoutSamples(step: Step): Omit<Step, "samples"> {
  const { samples: _, ...rest } = step;
  return rest;
}
