import { type Config, ConfigErrors, parseMaintenance } from "../config/mod.ts";
import {
  type AdminApi,
  type AdminServer,
  type ApiEndpoint,
  ApiError,
  decisionJson,
  type DecisionLog,
  eventStream,
  type Logger,
  Metrics,
  Readiness,
  startAdminServer,
} from "../observability/mod.ts";
import {
  ExplainInputError,
  type ExplainRequest,
  type Explanation,
  formatAddr,
  parseExplainRequest,
  type RouterViews,
} from "../server/mod.ts";
import { type ConsoleControls, replicaId, StateError } from "../state/mod.ts";
import { VERSION } from "./version.ts";

/** What the admin API reads from the running router (`GatehouseServer`). */
export interface AdminRouter {
  readonly config: Config;
  /** 1 for the config started with, one more per successful reload. */
  readonly configGeneration: number;
  readonly views: RouterViews;
  /** The newest decisions and their listeners. */
  readonly decisions: DecisionLog;
  /** The decision a player with these facts would get now, step by step. */
  explain(request: ExplainRequest): Promise<Explanation>;
}

/** Options of {@link AdminEndpoint.open}. */
export interface AdminEndpointOptions {
  /** Monotonic milliseconds, for `uptime_seconds` (tests). */
  readonly now?: () => number;
  /** This replica's id in `status` (default: `POD_NAME`, `HOSTNAME`, or made up at start). */
  readonly replicaId?: string;
}

type Phase = "starting" | "serving" | "stopping";

/**
 * Event streams open at once; one more is refused (503). Each stream formats every decision
 * again, so without a bound a token holder (or a page left open in many tabs) could make the
 * router spend its connection-serving time on JSON for readers.
 */
export const MAX_EVENT_STREAMS = 16;
/**
 * Explains running at once; one more is refused (503). An explain calls every plugin, so this
 * bounds the plugin calls the API can add to the players' own.
 */
export const MAX_CONCURRENT_EXPLAINS = 4;

/**
 * The admin side of `start`: the metrics every part records into, the readiness checks, and
 * the HTTP endpoint serving both when `admin.listen` is set. Opened before the router so
 * `/healthz` answers (and `/readyz` says 503) while plugins load.
 */
export class AdminEndpoint {
  /** Passed to the server; counts from the start. */
  readonly metrics: Metrics = new Metrics();
  /** `listening` and `plugins_loaded` now; discovery providers add theirs. */
  readonly readiness: Readiness = new Readiness();
  #server: AdminServer | null = null;
  #phase: Phase = "starting";
  #discovery: string[] = [];
  #config: Config;
  #router: AdminRouter | null = null;
  #controls: ConsoleControls | null = null;
  readonly #replica: string;
  // Ends every open event stream on close (the HTTP server waits for open responses).
  readonly #closing = new AbortController();
  readonly #now: () => number;
  readonly #startedAt: number;
  #eventStreams = 0;
  #explains = 0;

  private constructor(config: Config, options: AdminEndpointOptions) {
    this.#config = config;
    this.#now = options.now ?? (() => performance.now());
    this.#startedAt = this.#now();
    this.#replica = options.replicaId ?? replicaId();
  }

  /**
   * Records the config's sha256, registers the router's checks and binds `config.admin.listen`
   * (nothing is bound when it is disabled). Throws `AdminListenError` naming the address.
   * `/api/v1/status` answers at once; the router's views once {@link attach} was called.
   */
  static open(config: Config, logger: Logger, options: AdminEndpointOptions = {}): AdminEndpoint {
    const admin = new AdminEndpoint(config, options);
    const plugins = config.plugins.length;
    if (config.sha256 !== null) admin.metrics.configLoaded(config.sha256);
    admin.readiness.set("listening", () => admin.#check("bound", "not bound yet"));
    admin.readiness.set("plugins_loaded", () => admin.#check(`${plugins}`, `loading ${plugins}`));
    const listen = config.admin.listen;
    if (listen === null) return admin;
    const { metrics, readiness } = admin;
    const api = admin.#api();
    admin.#server = startAdminServer({ ...listen, metrics, readiness, logger, api });
    const { hostname, port } = admin.#server.addr;
    logger.info("admin endpoint", { addr: formatAddr(hostname, port) });
    return admin;
  }

  /** The HTTP endpoint's bound address; `null` when `admin.listen` disabled it. */
  get address(): Deno.NetAddr | null {
    return this.#server?.addr ?? null;
  }

  /**
   * Registers one `/readyz` check per discovery provider (`discovery_<name>`: synced or not),
   * replacing those of a previous config. `synced(name)` is `null` when the config now served
   * has no such provider.
   */
  discoveryChecks(names: readonly string[], synced: (name: string) => boolean | null): void {
    for (const name of this.#discovery) this.readiness.delete(`discovery_${name}`);
    this.#discovery = [...names];
    for (const name of names) {
      this.readiness.set(`discovery_${name}`, () => {
        const ok = synced(name);
        return { ok: ok === true, detail: ok ? "synced" : "not synced yet" };
      });
    }
  }

  /**
   * The admin API reads `router` from now on: its config (the token and what `status` shows
   * follow reloads) and its routes, backends and plugins.
   */
  attach(router: AdminRouter): void {
    this.#router = router;
  }

  /**
   * The runtime state (maintenance, drains) the API shows and changes from now on; until then
   * those endpoints answer 503.
   */
  attachControls(controls: ConsoleControls): void {
    this.#controls = controls;
  }

  /** The router is listening with its plugins loaded: ready. */
  serving(): void {
    this.#phase = "serving";
  }

  /** Not ready any more (shutting down); `/healthz` still answers until {@link close}. */
  stopping(): void {
    this.#phase = "stopping";
  }

  /** Closes the HTTP endpoint, if any. */
  async close(): Promise<void> {
    this.#closing.abort();
    await this.#server?.close();
  }

  #api(): AdminApi {
    const config = () => this.#router?.config ?? this.#config;
    const router = (pick: (views: RouterViews) => unknown): ApiEndpoint => ({
      GET: () => {
        const router = this.#router;
        return router === null ? null : pick(router.views);
      },
    });
    return {
      token: () => config().admin.token,
      endpoints: new Map<string, ApiEndpoint>([
        ["status", { GET: () => this.#status(config()) }],
        ["routes", router((v) => v.routes())],
        ["backends", router((v) => v.backends())],
        ["plugins", router((v) => v.plugins())],
        ["decisions", { GET: ({ url }) => this.#decisions(url) }],
        ["events", { GET: () => this.#events() }],
        ["explain", { POST: ({ json }) => this.#explain(json) }],
        ["maintenance", {
          GET: () => this.#controls?.view().maintenance ?? null,
          PUT: async ({ json }) => this.#setMaintenance(await json()),
          DELETE: () => this.#withControls((c) => c.setMaintenance(null)),
        }],
        ["backends/drain", { POST: async ({ json }) => this.#drain(await json(), "drain") }],
        ["backends/undrain", { POST: async ({ json }) => this.#drain(await json(), "undrain") }],
      ]),
    };
  }

  // GET decisions?limit=N: the ring's newest N (default 100).
  #decisions(url: URL) {
    const router = this.#router;
    if (router === null) return null;
    const limit = url.searchParams.get("limit") ?? "100";
    const n = /^[0-9]{1,4}$/.test(limit) ? Number(limit) : NaN;
    const max = router.decisions.capacity;
    if (!(n >= 1 && n <= max)) {
      throw new ApiError(400, `limit must be a whole number from 1 to ${max}`, "limit");
    }
    return { decisions: router.decisions.recent(n).map(decisionJson) };
  }

  // POST explain: the body's player facts (400 naming the field) → the decision step by step.
  async #explain(json: () => Promise<unknown>): Promise<Explanation | null> {
    const router = this.#router;
    if (router === null) return null;
    // The body is read and checked before a slot is taken: a client sending its body slowly
    // (or never finishing it) must not hold a slot the explains of others need.
    let request: ExplainRequest;
    try {
      request = parseExplainRequest(await json());
    } catch (err) {
      if (!(err instanceof ExplainInputError)) throw err;
      throw new ApiError(400, err.message, err.field);
    }
    if (this.#explains >= MAX_CONCURRENT_EXPLAINS) {
      throw new ApiError(503, `${MAX_CONCURRENT_EXPLAINS} explains are running; try again`);
    }
    this.#explains++;
    try {
      return await router.explain(request);
    } finally {
      this.#explains--;
    }
  }

  // GET events: every new decision as it is made, until the client goes away.
  // A client that goes away cancels the body stream, which unsubscribes (`request.signal` is not
  // needed, and reading it makes Deno 2.9 warn about its legacy abort-on-completion).
  #events() {
    const router = this.#router;
    if (router === null) return null;
    if (this.#eventStreams >= MAX_EVENT_STREAMS) {
      throw new ApiError(
        503,
        `${MAX_EVENT_STREAMS} event streams are open; close one, or poll /api/v1/decisions`,
      );
    }
    return eventStream({
      signal: this.#closing.signal,
      subscribe: (emit) => {
        this.#eventStreams++;
        const decisions = router.decisions.subscribe((r) => emit("decision", decisionJson(r)));
        const state = this.#controls?.subscribe((view) => emit("state", view));
        return () => (this.#eventStreams--, decisions(), state?.());
      },
    });
  }

  #status(config: Config) {
    const { ready, checks } = this.readiness.evaluate();
    return {
      version: VERSION,
      uptime_seconds: Math.round(this.#now() - this.#startedAt) / 1000,
      config: {
        source: config.source,
        sha256: config.sha256,
        generation: this.#router?.configGeneration ?? null,
      },
      ready,
      checks: checks.map((c) => ({ name: c.name, ok: c.ok, detail: c.detail })),
      replica: { id: this.#replica },
      state: this.#controls?.store ?? { store: "memory", shared: false, where: "not opened yet" },
    };
  }

  // PUT maintenance: {enabled, message?, message_locales?, bypass?}; keys left out keep the
  // setting in force. Validated by the config loader's own validator.
  #setMaintenance(body: unknown) {
    return this.#withControls((controls) => {
      if (typeof body === "object" && body !== null && !Array.isArray(body)) {
        if (!("enabled" in body)) {
          throw new ApiError(400, "enabled: missing required key", "enabled");
        }
        // The validator reads null as "left out" (a YAML key without a value), which would keep
        // the setting in force and answer 200 to a body that switched nothing.
        if (body.enabled === null) {
          throw new ApiError(400, "enabled: expected true or false, got null", "enabled");
        }
      }
      let value;
      try {
        value = parseMaintenance(body, controls.maintenance.settings);
      } catch (err) {
        if (!(err instanceof ConfigErrors)) throw err;
        const first = err.errors[0];
        const field = first?.path ?? "";
        const message = field === "" ? `the body: ${first?.detail}` : `${field}: ${first?.detail}`;
        throw new ApiError(400, message, field === "" ? null : field);
      }
      return controls.setMaintenance(value);
    });
  }

  // POST backends/drain and backends/undrain: {backend: "host:port"} → the drained list.
  #drain(body: unknown, action: "drain" | "undrain") {
    return this.#withControls(async (controls) => {
      if (typeof body !== "object" || body === null || Array.isArray(body)) {
        throw new ApiError(400, 'the body must be {"backend": "host:port"}');
      }
      const unknown = Object.keys(body).find((k) => k !== "backend");
      if (unknown !== undefined) {
        throw new ApiError(400, `${unknown}: unknown key (expected backend)`, unknown);
      }
      const backend = (body as { backend?: unknown }).backend;
      if (typeof backend !== "string") {
        throw new ApiError(400, 'backend: expected "host:port" text', "backend");
      }
      const drained = action === "drain"
        ? await controls.drain(backend)
        : await controls.undrain(backend);
      return { drained };
    });
  }

  /** Runs a change on the controls; `null` (503) before they are attached; state errors as 4xx/5xx. */
  async #withControls<T>(change: (controls: ConsoleControls) => Promise<T> | T) {
    const controls = this.#controls;
    if (controls === null) return null;
    try {
      return await change(controls);
    } catch (err) {
      if (!(err instanceof StateError)) throw err;
      const status = { invalid: 400, too_large: 413, conflict: 409, corrupt: 500, store: 503 };
      throw new ApiError(status[err.code], err.message, err.field);
    }
  }

  #check(okDetail: string, startingDetail: string): { ok: boolean; detail: string } {
    if (this.#phase === "serving") return { ok: true, detail: okDetail };
    return { ok: false, detail: this.#phase === "starting" ? startingDetail : "shutting down" };
  }
}
