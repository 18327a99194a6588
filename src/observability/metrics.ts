/**
 * The router's Prometheus metrics, in a registry of their own (never prom-client's global one,
 * so two routers in one process — tests — never share counters).
 *
 * Label values come only from the config and from code: route labels (`routes[3]`, `default`,
 * `none` when no route was chosen), plugin names, and fixed outcome, error and result names.
 * Never from what a client sent (no SNI, no username), so a client cannot grow the series set.
 *
 * The per-connection path only looks label children up in small maps; they are created once per
 * route and plugin (ahead of time by {@link Metrics.prepareRoutes} and
 * {@link Metrics.preparePlugins}, so every series exists from the start with 0).
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";

/**
 * How a connection can end: the server ends each connection with one of these, logs it as
 * `outcome` and counts it under the `outcome` label. Defined here, not in `server/`, because
 * observability is the folder both depend on (it imports neither).
 */
export const CONNECTION_OUTCOMES = [
  "referral",
  "deny",
  "no_route",
  "no_backends",
  "discovery_error",
  "routing_error",
  "maintenance",
  "timeout",
  "closed",
  "protocol_error",
] as const;

/** One of {@link CONNECTION_OUTCOMES}. */
export type ConnectionOutcome = (typeof CONNECTION_OUTCOMES)[number];

/**
 * Why a connection was refused at admission (the `reason` label of
 * `gatehouse_connections_refused_total`); the server's `Admission` returns one of these.
 */
export const CONNECTION_REFUSALS = [
  "rate_limit",
  "per_ip_limit",
  "capacity",
  "access_denied",
  "handshake_limit",
  "subnet_limit",
] as const;

/** One of {@link CONNECTION_REFUSALS}. */
export type RefusalReason = (typeof CONNECTION_REFUSALS)[number];

/**
 * Why a plugin call failed (docs/plugins.md §3 "Outcomes and error kinds"): the plugins' transports
 * fail calls with these, the chain logs them and the metrics count them under the `kind` label.
 * Defined here, not in `plugins/`, because observability is the folder both depend on.
 */
export const PLUGIN_ERROR_KINDS = ["timeout", "trap", "bad_response", "unavailable"] as const;

/** One of {@link PLUGIN_ERROR_KINDS}. */
export type PluginErrorKind = (typeof PLUGIN_ERROR_KINDS)[number];

/** The `route` label of connections that ended before a route was chosen. */
export const NO_ROUTE_LABEL = "none";

/** Latency buckets in seconds: sub-millisecond routing up to a plugin or client near its deadline. */
const LATENCY_BUCKETS = [
  0.0001,
  0.00025,
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
];

/** One series of a {@link CounterFamily}: a plain number, incremented without any lookup. */
interface Cell {
  value: number;
}

/**
 * A labelled counter whose series are plain numbers, copied into prom-client only when scraped.
 * (prom-client's own label children build a label string on every `inc`.)
 */
class CounterFamily<L extends string> {
  readonly #cells: { readonly labels: Record<L, string>; readonly cell: Cell }[] = [];

  constructor(config: { name: string; help: string; labelNames: L[]; registers: Registry[] }) {
    const cells = this.#cells;
    new Counter<L>({
      ...config,
      collect() {
        this.reset();
        for (const { labels, cell } of cells) this.inc(labels, cell.value);
      },
    });
  }

  /** A new series; the caller keeps it (one per label set). */
  cell(labels: Record<L, string>): Cell {
    const cell = { value: 0 };
    this.#cells.push({ labels, cell });
    return cell;
  }
}

/** A plugin's call counters as {@link Metrics.pluginCounts} reads them. */
export interface PluginCounts {
  /** Calls, failed or not. */
  readonly calls: number;
  /** Failed calls per error kind ({@link PLUGIN_ERROR_KINDS}). */
  readonly errors: Readonly<Record<string, number>>;
  /** Median and 99th percentile of the last {@link RECENT_CALLS} calls; `null` before any. */
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly calls: number } | null;
}

/** How many of a plugin's latest call durations the admin API's percentiles cover. */
export const RECENT_CALLS = 256;

/** One plugin's pre-resolved series. */
interface PluginSeries {
  readonly calls: Cell;
  readonly errors: Map<string, Cell>;
  /** prom-client's child: builds one short label string per observation (per plugin call). */
  readonly latency: { observe(seconds: number): void };
  /** The latest call durations (ms), a ring; `calls.value` says how far it is filled. */
  readonly recent: Float64Array;
}

/** The per-plugin (and per-discovery-provider) metric families. */
interface PluginFamilies {
  readonly calls: CounterFamily<"plugin">;
  readonly errors: CounterFamily<"plugin" | "kind">;
  readonly latency: Histogram<"plugin">;
  readonly breaker: Gauge<"plugin">;
  readonly abandoned: CounterFamily<"plugin">;
  readonly restarts: CounterFamily<"plugin">;
  readonly disconnectsDropped: CounterFamily<"plugin">;
  readonly discoveryBackends: Gauge<"provider">;
  readonly discoverySynced: Gauge<"provider">;
  readonly discoveryRestarts: Gauge<"provider">;
  readonly discoveryAllocations: Gauge<"provider" | "result">;
  readonly discoveryPushes: Gauge<"provider">;
  readonly discoveryPushAge: Gauge<"provider">;
}

function pluginFamilies(registers: Registry[]): PluginFamilies {
  return {
    calls: new CounterFamily({
      name: "gatehouse_plugin_calls_total",
      help: "Plugin calls, failed or not.",
      labelNames: ["plugin"],
      registers,
    }),
    errors: new CounterFamily({
      name: "gatehouse_plugin_errors_total",
      help: `Failed plugin calls by kind (${PLUGIN_ERROR_KINDS.join(", ")}).`,
      labelNames: ["plugin", "kind"],
      registers,
    }),
    latency: new Histogram({
      name: "gatehouse_plugin_call_duration_seconds",
      help: "Plugin call latency as the chain saw it, failures included.",
      labelNames: ["plugin"],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    breaker: new Gauge({
      name: "gatehouse_plugin_breaker_open",
      help: "1 while a plugin's calls are skipped (fail fast as unavailable): its circuit " +
        "breaker open or half-open, or its server, process or workers down awaiting a retry; " +
        "else 0.",
      labelNames: ["plugin"],
      registers,
    }),
    abandoned: new CounterFamily({
      name: "gatehouse_plugin_workers_abandoned_total",
      help: "WASM plugin workers given up silent past a call's deadline plus the grace.",
      labelNames: ["plugin"],
      registers,
    }),
    restarts: new CounterFamily({
      name: "gatehouse_plugin_restarts_total",
      help: "Plugin processes started again after one ended (process plugins, WASM plugins " +
        "with isolation: process).",
      labelNames: ["plugin"],
      registers,
    }),
    disconnectsDropped: new CounterFamily({
      name: "gatehouse_plugin_disconnects_dropped_total",
      help: "Connection-end notifications (on_disconnect) a process plugin did not get: its " +
        "queue was full or the send failed.",
      labelNames: ["plugin"],
      registers,
    }),
    discoveryBackends: new Gauge({
      name: "gatehouse_discovery_backends",
      help: "Backends in a discovery provider's current snapshot.",
      labelNames: ["provider"],
      registers,
    }),
    discoverySynced: new Gauge({
      name: "gatehouse_discovery_synced",
      help: "1 once every collection of a discovery provider has been listed, else 0.",
      labelNames: ["provider"],
      registers,
    }),
    discoveryRestarts: new Gauge({
      name: "gatehouse_discovery_watch_restarts",
      help: "Watch restarts (resumed or re-listed) of a provider since it started (a reload " +
        "keeps a provider whose settings are unchanged).",
      labelNames: ["provider"],
      registers,
    }),
    discoveryAllocations: new Gauge({
      name: "gatehouse_discovery_allocations",
      help: "GameServerAllocations of an agones allocate provider since it started, by result " +
        "(ok, failed).",
      labelNames: ["provider", "result"],
      registers,
    }),
    discoveryPushes: new Gauge({
      name: "gatehouse_discovery_pushes",
      help: "Target lists a process plugin pushed (set_targets) to a type: plugin provider.",
      labelNames: ["provider"],
      registers,
    }),
    discoveryPushAge: new Gauge({
      name: "gatehouse_discovery_last_push_age_seconds",
      help: "Seconds since a type: plugin provider's last push (absent before the first).",
      labelNames: ["provider"],
      registers,
    }),
  };
}

/** What `/metrics` reports of one discovery provider, read per scrape. */
export interface DiscoveryState {
  /** Backends in its snapshot. */
  readonly backends: number;
  /** Whether every collection has been listed once. */
  readonly synced: boolean;
  /** Watch restarts so far. */
  readonly restarts: number;
  /** Allocations by result (agones allocate providers), else `null`. */
  readonly allocations: { readonly ok: number; readonly failed: number } | null;
  /**
   * Pushes so far and the last one's age in seconds (`type: plugin` providers; age `null`
   * before the first push), else absent.
   */
  readonly pushes?: { readonly count: number; readonly ageSeconds: number | null };
}

/** What {@link Metrics} needs from outside; all optional. */
export interface MetricsOptions {
  /** Monotonic milliseconds (default `performance.now`); uptime is measured with it. */
  readonly now?: () => number;
}

/** See the module comment. One instance per process (or per router under test). */
export class Metrics {
  readonly #registry = new Registry();
  readonly #now: () => number;
  readonly #startedAt: number;
  readonly #accepted: Cell;
  readonly #refused: Readonly<Record<RefusalReason, Cell>>;
  readonly #outcomes: CounterFamily<"outcome" | "route">;
  readonly #byRoute = new Map<string, Map<string, Cell>>();
  readonly #plugins: PluginFamilies;
  readonly #byPlugin = new Map<string, PluginSeries>();
  readonly #abandoned: ReadCounter;
  readonly #restarts: ReadCounter;
  readonly #disconnectsDropped: ReadCounter;
  readonly #decision: Histogram;
  readonly #reply: Histogram;
  readonly #reloadOk: Cell;
  readonly #reloadFailed: Cell;
  readonly #configInfo: Gauge<"sha256">;
  readonly #beforeScrape: (() => void)[] = [];

  /** Registers every metric; see {@link MetricsOptions}. */
  constructor(options: MetricsOptions = {}) {
    this.#now = options.now ?? (() => performance.now());
    this.#startedAt = this.#now();
    const registers = [this.#registry];
    this.#accepted = new CounterFamily({
      name: "gatehouse_connections_accepted_total",
      help: "QUIC connections accepted (handshake completed).",
      labelNames: [],
      registers,
    }).cell({});
    const refused = new CounterFamily({
      name: "gatehouse_connections_refused_total",
      help: "Connections refused at admission, before any stream is read, by reason " +
        `(${CONNECTION_REFUSALS.join(", ")}).`,
      labelNames: ["reason"],
      registers,
    });
    this.#refused = Object.fromEntries(
      CONNECTION_REFUSALS.map((reason) => [reason, refused.cell({ reason })]),
    ) as Record<RefusalReason, Cell>;
    this.#outcomes = new CounterFamily({
      name: "gatehouse_connection_outcomes_total",
      help: "Connections by how they ended and the route chosen (none: no route).",
      labelNames: ["outcome", "route"],
      registers,
    });
    this.#plugins = pluginFamilies(registers);
    this.#abandoned = new ReadCounter(this.#plugins.abandoned);
    this.#restarts = new ReadCounter(this.#plugins.restarts);
    this.#disconnectsDropped = new ReadCounter(this.#plugins.disconnectsDropped);
    this.#decision = new Histogram({
      name: "gatehouse_decision_duration_seconds",
      help: "From the Connect read to the reply chosen: routing and plugins.",
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.#reply = new Histogram({
      name: "gatehouse_reply_duration_seconds",
      help: "From the connection accepted to the reply handed to QUIC.",
      buckets: LATENCY_BUCKETS,
      registers,
    });
    const reloads = new CounterFamily({
      name: "gatehouse_config_reloads_total",
      help: "Config reloads by result (ok, failed).",
      labelNames: ["result"],
      registers,
    });
    this.#reloadOk = reloads.cell({ result: "ok" });
    this.#reloadFailed = reloads.cell({ result: "failed" });
    this.#configInfo = new Gauge({
      name: "gatehouse_config_info",
      help:
        "The loaded config's fingerprint: sha256 of the parsed config, secrets removed; always 1.",
      labelNames: ["sha256"],
      registers,
    });
    const uptime = () => (this.#now() - this.#startedAt) / 1000;
    new Gauge({
      name: "gatehouse_process_uptime_seconds",
      help: "Seconds since the process started serving.",
      registers,
      collect() {
        this.set(uptime());
      },
    });
  }

  /** Creates the outcome series of these route labels (all 0) ahead of the first connection. */
  prepareRoutes(routes: readonly string[]): void {
    for (const route of [...routes, NO_ROUTE_LABEL]) {
      for (const kind of CONNECTION_OUTCOMES) this.#outcomeChild(kind, route);
    }
  }

  /** Creates the call, error and latency series of these plugins ahead of the first call. */
  preparePlugins(plugins: readonly string[]): void {
    for (const plugin of plugins) this.#pluginSeries(plugin);
  }

  /** One QUIC connection was accepted. */
  connectionAccepted(): void {
    this.#accepted.value++;
  }

  /** A connection was refused at admission because of `reason` (`limits`, `access`). */
  refused(reason: RefusalReason): void {
    this.#refused[reason].value++;
  }

  /** A connection ended with `outcome`; `route` is the route label, `null` when none was chosen. */
  outcome(outcome: ConnectionOutcome, route: string | null): void {
    this.#outcomeChild(outcome, route ?? NO_ROUTE_LABEL).value++;
  }

  /** One plugin call took `ms` and failed with `errorKind`, or succeeded (`null`). */
  pluginCall(plugin: string, ms: number, errorKind: string | null): void {
    const series = this.#pluginSeries(plugin);
    series.recent[series.calls.value % RECENT_CALLS] = ms;
    series.calls.value++;
    series.latency.observe(ms / 1000);
    if (errorKind !== null) this.#pluginError(series, plugin, errorKind).value++;
  }

  /**
   * `plugin`'s calls and failed calls by kind so far (the `/metrics` counters, for the admin
   * API); `null` before its series exist.
   */
  pluginCounts(plugin: string): PluginCounts | null {
    const series = this.#byPlugin.get(plugin);
    if (!series) return null;
    const errors: Record<string, number> = {};
    for (const [kind, cell] of series.errors) errors[kind] = cell.value;
    const calls = series.calls.value;
    const recent = series.recent.slice(0, Math.min(calls, RECENT_CALLS)).sort();
    const at = (q: number) =>
      round(recent[Math.min(recent.length - 1, Math.floor(q * recent.length))]!);
    const latencyMs = recent.length === 0
      ? null
      : { p50: at(0.5), p99: at(0.99), calls: recent.length };
    return { calls, errors, latencyMs };
  }

  /** Sets whether `plugin`'s calls are skipped (breaker open; server, process or workers down). */
  breakerState(plugin: string, open: boolean): void {
    this.#plugins.breaker.labels(plugin).set(open ? 1 : 0);
  }

  /**
   * `source` — one running instance of `plugin` — has abandoned `total` workers so far (read at
   * each scrape). Counts only what is new since the last report of the same source, so a reload
   * that replaces the plugin (its new transport starts again at 0) never makes the counter fall.
   */
  workersAbandoned(plugin: string, source: object, total: number): void {
    this.#abandoned.report(plugin, source, total);
  }

  /**
   * `source` — one running instance of `plugin` — has restarted its process `total` times so
   * far (read at each scrape); counted like {@link Metrics.workersAbandoned}.
   */
  pluginRestarts(plugin: string, source: object, total: number): void {
    this.#restarts.report(plugin, source, total);
  }

  /**
   * `source` — one running instance of `plugin` — has dropped `total` connection-end
   * notifications so far (read at each scrape); counted like {@link Metrics.workersAbandoned}.
   */
  disconnectsDropped(plugin: string, source: object, total: number): void {
    this.#disconnectsDropped.report(plugin, source, total);
  }

  /**
   * A discovery provider's state: snapshot size, first sync done, watch restarts so far, and
   * for an allocate provider its allocations by result.
   */
  discoveryState(provider: string, state: DiscoveryState): void {
    this.#plugins.discoveryBackends.labels(provider).set(state.backends);
    this.#plugins.discoverySynced.labels(provider).set(state.synced ? 1 : 0);
    this.#plugins.discoveryRestarts.labels(provider).set(state.restarts);
    if (state.pushes !== undefined) {
      this.#plugins.discoveryPushes.labels(provider).set(state.pushes.count);
      const age = state.pushes.ageSeconds;
      if (age !== null) this.#plugins.discoveryPushAge.labels(provider).set(age);
    }
    if (state.allocations === null) return;
    const allocations = this.#plugins.discoveryAllocations;
    allocations.labels(provider, "ok").set(state.allocations.ok);
    allocations.labels(provider, "failed").set(state.allocations.failed);
  }

  /** Routing and plugins took `ms` for one Connect. */
  decision(ms: number): void {
    this.#decision.observe(ms / 1000);
  }

  /** The reply was handed to QUIC `ms` after the connection was accepted. */
  reply(ms: number): void {
    this.#reply.observe(ms / 1000);
  }

  /** A config reload succeeded (`true`) or was rejected (`false`). */
  reload(ok: boolean): void {
    (ok ? this.#reloadOk : this.#reloadFailed).value++;
  }

  /**
   * The config now in force has this fingerprint (`Config.sha256`: secrets removed, so /metrics
   * readers cannot test guesses at them); replaces the previous one's info series.
   */
  configLoaded(sha256: string): void {
    this.#configInfo.reset();
    this.#configInfo.labels(sha256).set(1);
  }

  /**
   * Runs `hook` before every scrape, for values read rather than recorded (breaker states).
   * A hook that throws is skipped for that scrape.
   */
  beforeScrape(hook: () => void): void {
    this.#beforeScrape.push(hook);
  }

  /** The Prometheus text exposition of every metric (after running the scrape hooks). */
  async render(): Promise<string> {
    // Breaker and discovery states are reported afresh by the hooks, so a plugin or provider a
    // reload removed does not keep its last state (an open breaker would alert forever).
    this.#plugins.breaker.reset();
    this.#plugins.discoveryBackends.reset();
    this.#plugins.discoverySynced.reset();
    this.#plugins.discoveryRestarts.reset();
    for (const hook of this.#beforeScrape) {
      try {
        hook();
      } catch {
        // A broken hook must not cost the whole scrape; its gauges are left out this time.
      }
    }
    return await this.#registry.metrics();
  }

  /** The `Content-Type` of {@link Metrics.render}'s text. */
  get contentType(): string {
    return this.#registry.contentType;
  }

  #outcomeChild(outcome: string, route: string): Cell {
    let byOutcome = this.#byRoute.get(route);
    if (!byOutcome) {
      byOutcome = new Map();
      this.#byRoute.set(route, byOutcome);
    }
    let child = byOutcome.get(outcome);
    if (!child) {
      child = this.#outcomes.cell({ outcome, route });
      byOutcome.set(outcome, child);
    }
    return child;
  }

  #pluginSeries(plugin: string): PluginSeries {
    let series = this.#byPlugin.get(plugin);
    if (!series) {
      const errors = new Map<string, Cell>();
      for (const kind of PLUGIN_ERROR_KINDS) {
        errors.set(kind, this.#plugins.errors.cell({ plugin, kind }));
      }
      series = {
        calls: this.#plugins.calls.cell({ plugin }),
        errors,
        latency: this.#plugins.latency.labels(plugin),
        recent: new Float64Array(RECENT_CALLS),
      };
      this.#byPlugin.set(plugin, series);
    }
    return series;
  }

  #pluginError(series: PluginSeries, plugin: string, kind: string): Cell {
    let cell = series.errors.get(kind);
    if (!cell) {
      cell = this.#plugins.errors.cell({ plugin, kind });
      series.errors.set(kind, cell);
    }
    return cell;
  }
}

/**
 * A per-plugin counter whose values are read from running transports at each scrape: each
 * source's total is added only as far as it grew since that source's last report, so a reload
 * that replaces a plugin (its new transport starts again at 0) never makes the counter fall.
 */
class ReadCounter {
  readonly #family: CounterFamily<"plugin">;
  readonly #cells = new Map<string, Cell>();
  readonly #seen = new WeakMap<object, number>();

  constructor(family: CounterFamily<"plugin">) {
    this.#family = family;
  }

  /** `source` of `plugin` reports `total` so far; creates the series (at 0) on first sight. */
  report(plugin: string, source: object, total: number): void {
    let cell = this.#cells.get(plugin);
    if (!cell) {
      cell = this.#family.cell({ plugin });
      this.#cells.set(plugin, cell);
    }
    const seen = this.#seen.get(source) ?? 0;
    if (total <= seen) return;
    cell.value += total - seen;
    this.#seen.set(source, total);
  }
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
