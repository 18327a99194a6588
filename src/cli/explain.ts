/**
 * `explain`: the decision a player with given facts would get from a config, offline — no
 * running router. It builds the config's snapshot as `start` does (plugins loaded, discovery
 * synced, bounded), explains one decision (`server/explain.ts`), prints it and closes the
 * snapshot. From source it runs sandboxed like `start`: the launcher computes the router's
 * permissions for the config and runs the hidden {@link EXPLAIN_CHILD} command with them.
 *
 * The runtime state — maintenance set through the admin API, drained backends — is read from the
 * store the config names (`admin.state_file`, `admin.state_config_map`), as a router starting
 * now would read it; without one, or when it cannot be read (a warning says why), maintenance is
 * the config's `maintenance` section and no backend is drained.
 */
import { parseArgs } from "node:util";
import type { Config } from "../config/mod.ts";
import { Logger, printable } from "../observability/mod.ts";
import { defaultTransportFactory } from "../plugins/mod.ts";
import {
  buildSnapshot,
  closeSnapshot,
  explainDecision,
  type ExplainedPlugin,
  ExplainInputError,
  type ExplainRequest,
  type Explanation,
  parseExplainRequest,
  type RuntimeControls,
  type RuntimeSnapshot,
} from "../server/mod.ts";
import { MaintenanceGate, openControls } from "../state/mod.ts";
import { type CommandIO, loadConfigOrReport } from "./check.ts";
import { UsageError } from "./usage.ts";

/** The hidden command the sandboxed child runs (the same arguments as `explain`). */
export const EXPLAIN_CHILD = "explain:run";

/** What `explain` was asked. */
export interface ExplainOptions {
  /** The `--config` file. */
  readonly configPath: string;
  /** The player facts, validated. */
  readonly request: ExplainRequest;
  /** Print the JSON document instead of the report. */
  readonly json: boolean;
}

/** The flag each explain field comes from, for usage errors. */
const FLAG_OF: Readonly<Record<string, string>> = {
  sni: "--sni",
  username: "--username",
  uuid: "--uuid",
  language: "--language",
  client_type: "--client-type",
  client_ip: "--client-ip",
};

/** Parses `explain`'s arguments; a bad one is a {@link UsageError} naming its flag (exit 2). */
export function parseExplainArgs(args: readonly string[]): ExplainOptions {
  const { values } = parseArgs({
    args: [...args],
    options: {
      config: { type: "string" },
      sni: { type: "string" },
      username: { type: "string" },
      uuid: { type: "string" },
      language: { type: "string" },
      "client-type": { type: "string" },
      "client-ip": { type: "string" },
      json: { type: "boolean", default: false },
    },
  });
  if (!values.config) throw new UsageError("explain: --config FILE is required");
  if (values.sni === undefined) throw new UsageError("explain: --sni NAME is required");
  if (values.username === undefined) throw new UsageError("explain: --username NAME is required");
  const type = values["client-type"];
  try {
    const request = parseExplainRequest({
      sni: values.sni,
      username: values.username,
      uuid: values.uuid,
      language: values.language,
      client_type: type === undefined ? undefined : /^[0-9]{1,3}$/.test(type) ? Number(type) : NaN,
      client_ip: values["client-ip"],
    });
    return { configPath: values.config, request, json: values.json };
  } catch (err) {
    if (!(err instanceof ExplainInputError)) throw err;
    const flag = FLAG_OF[err.field] ?? err.field;
    throw new UsageError(`explain: ${flag}${err.message.slice(err.field.length)}`);
  }
}

/**
 * Loads the config (errors printed as `check` prints them: exit 1), builds its snapshot
 * (plugins, discovery), explains, prints, closes. Returns the exit code.
 */
export async function runExplain(options: ExplainOptions, io: CommandIO): Promise<number> {
  const config = await loadConfigOrReport(options.configPath, io);
  if (!config) return 1;
  const logger = new Logger({ level: "warn", format: "text" });
  const state = await runtimeState(config, logger, io);
  try {
    return await explainWith(config, state, options, logger, io);
  } finally {
    await state.close();
  }
}

/** Builds the snapshot with the runtime state's drains, explains, prints; the exit code. */
async function explainWith(
  config: Config,
  state: RuntimeState,
  options: ExplainOptions,
  logger: Logger,
  io: CommandIO,
): Promise<number> {
  const { controls } = state;
  let snapshot: RuntimeSnapshot;
  try {
    snapshot = await buildSnapshot(config, {
      logger,
      transports: defaultTransportFactory,
      routerOptions: { drained: () => controls.drained },
    });
  } catch (err) {
    io.err(`${options.configPath}: ${printable(err instanceof Error ? err.message : String(err))}`);
    return 1;
  }
  try {
    const explained = await explainDecision({ snapshot, controls, logger }, options.request);
    if (options.json) io.out(JSON.stringify(explained, null, 2));
    else for (const line of [state.line, ...formatExplanation(explained)]) io.out(line);
    return 0;
  } finally {
    await closeSnapshot(snapshot);
  }
}

/** The runtime state an explanation uses, the report line naming it, and how to let it go. */
interface RuntimeState {
  readonly controls: RuntimeControls;
  readonly line: string;
  close(): Promise<void>;
}

/**
 * The runtime state a router starting now would serve with, from the config's store, and a
 * report line naming where it came from. A store that cannot be opened (no cluster here for a
 * ConfigMap) is a warning, not a failure: the explanation then uses the config alone.
 */
async function runtimeState(
  config: Config,
  logger: Logger,
  io: CommandIO,
): Promise<RuntimeState> {
  const fallback: RuntimeState = {
    controls: {
      maintenance: new MaintenanceGate(config.maintenance, "config"),
      drained: new Set<string>(),
    },
    line: "runtime state: none (the config's maintenance, no drained backend)",
    close: () => Promise.resolve(),
  };
  if (config.admin.stateFile === null && config.admin.stateConfigMap === null) return fallback;
  try {
    const controls = await openControls(config, { logger });
    const { store, where } = controls.store;
    const drained = controls.drained.size;
    return {
      controls,
      line: `runtime state: ${store} ${printable(where)} (${drained} drained)`,
      close: () => controls.close(),
    };
  } catch (err) {
    const why = printable(err instanceof Error ? err.message : String(err));
    io.err(`warning: runtime state not read (${why}); explaining with the config alone`);
    return fallback;
  }
}

/** The explanation as a readable report, one line each; untrusted text made printable. */
export function formatExplanation(e: Explanation): string[] {
  const r = e.request;
  const lines = [
    `player: sni ${quote(r.sni)}, username ${quote(r.username)}, uuid ${r.uuid}, ` +
    `language ${quote(r.language)}, client_type ${r.client_type}` +
    (r.client_ip === null ? "" : `, client_ip ${r.client_ip}`),
    `maintenance: ${
      e.maintenance.enabled ? (e.maintenance.bypassed ? "on, bypassed" : "on") : "off"
    }`,
    `route: ${routeText(e)}`,
  ];
  const { resolved, allocation, attempts } = e.candidates;
  if (allocation !== null) {
    lines.push(
      `  provider ${quote(allocation)} allocates per connection: explain did not allocate`,
    );
  }
  if (e.route !== null) lines.push(`candidates (${resolved.length}):`);
  for (const c of resolved) {
    const meta = Object.entries(c.meta ?? {}).map(([k, v]) => `${k}=${v}`).join(" ");
    const tags = [`weight ${c.weight}`, ...(c.drained ? ["DRAINED"] : []), ...(meta ? [meta] : [])];
    lines.push(`  ${printable(`${c.host}:${c.port}`)}  ${printable(tags.join("  "))}`);
  }
  attempts.forEach((a, i) => {
    lines.push(`pass ${i + 1}${i === 0 ? " (pool)" : ` (fallback ${i})`}: ${a.strategy}`);
    lines.push(`  after filters: ${list(a.after_filters)}`);
    if (a.after_filters.length > 0) {
      lines.push(`  after sort:    ${list(a.after_sort)}`);
      lines.push(`  after limit:   ${list(a.after_limit)}`);
    }
    lines.push(`  picked:        ${a.picked === null ? `none (${a.note ?? ""})` : a.picked}`);
  });
  if (e.plugins.length > 0) lines.push("plugins:");
  for (const p of e.plugins) lines.push(`  ${pluginText(p)}`);
  lines.push(`reply: ${replyText(e)}`);
  return lines;
}

function routeText(e: Explanation): string {
  if (e.route === null) return "none";
  const m = e.route.matched;
  const how = m === null
    ? "default pool"
    : `matched ${quote(m.hostname)}${m.glob ? " (glob)" : ""}`;
  return `${e.route.label}, ${how}`;
}

function pluginText(p: ExplainedPlugin): string {
  const parts = [`${quote(p.plugin)}: ${p.verdict}`, `${p.ms} ms`];
  if (p.error !== undefined) parts.push(`error ${quote(p.error)}`);
  const a = p.answer;
  if (a !== undefined) {
    if (a.deny) parts.push(`deny_reason ${quote(a.deny_reason)}`);
    if (a.backend !== null) parts.push(`backend ${quote(`${a.backend.host}:${a.backend.port}`)}`);
    if (a.candidates !== null) parts.push(`${a.candidates_total} candidates`);
    if (a.selected_index !== null) parts.push(`selected_index ${a.selected_index}`);
    if (a.referral_content !== null) {
      parts.push(`referral content ${a.referral_content.length} bytes`);
    }
  }
  return parts.join(", ");
}

function replyText(e: Explanation): string {
  const reply = e.reply;
  if (reply.kind === "referral") return `referral to ${printable(reply.backend)}`;
  const detail = reply.detail === null ? "" : ` (${printable(reply.detail)})`;
  return `disconnect, outcome ${reply.outcome}${detail}: ${quote(reply.message)}`;
}

function list(keys: readonly string[]): string {
  return keys.length === 0 ? "(none)" : printable(keys.join(", "));
}

function quote(s: string): string {
  return printable(JSON.stringify(s));
}
