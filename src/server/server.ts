import type { Config } from "../config/mod.ts";
import { DecisionLog, type Logger, Metrics, type RefusalReason } from "../observability/mod.ts";
import type { SourceOpener } from "../discovery/mod.ts";
import type { RouterOptions } from "../routing/mod.ts";
import { defaultTransportFactory, type TransportFactory } from "../plugins/mod.ts";
import { type RouterViews, routerViews } from "./admin_views.ts";
import { expandAlpn } from "./alpn.ts";
import { serveConnection } from "./connection.ts";
import { NO_CONTROLS, type RuntimeControls } from "./controls.ts";
import { explainDecision, type ExplainRequest, type Explanation } from "./explain.ts";
import { GenerationSlot } from "./generations.ts";
import { Admission, ADMISSION_CLOSE_CODE, REFUSAL_TEXTS } from "./admission.ts";
import { ChurnCollector, exposedGc } from "./churn_collector.ts";
import {
  acceptEarly,
  discardDatagrams,
  discardUniStreams,
  handshakeDone,
  TRANSPORT_LIMITS,
} from "./quic_accept.ts";
import { logReloadResult, Reloader, type ReloadResult } from "./reload.ts";
import { buildSnapshot, closeSnapshot } from "./snapshot.ts";
import { loadTlsMaterial, type TlsMaterial } from "./tls.ts";
import { closeQuietly, settleWithin } from "./timing.ts";

/** What `startServer` needs besides the config. */
export interface ServerOptions {
  /** Receives the server's and every connection's log lines. */
  readonly logger: Logger;
  /** Certificate to serve; default: from `config.tls`, or self-signed. */
  readonly tls?: TlsMaterial;
  /** Randomness and clock for routing (tests). */
  readonly routerOptions?: RouterOptions;
  /** Makes plugin transports; default: the WASM host and gRPC client. */
  readonly transports?: TransportFactory;
  /** Monotonic milliseconds (tests). */
  readonly now?: () => number;
  /** Where connections, outcomes and plugin calls are counted; default: a private registry. */
  readonly metrics?: Metrics;
  /** API access for discovery providers; default: each provider's kubeconfig or in-cluster. */
  readonly discoverySources?: SourceOpener;
  /** How long start waits for the providers' first sync (tests); default 5 s. */
  readonly discoveryWaitMs?: number;
  /**
   * Maintenance mode and drained backends, read per connection (`start` passes the admin
   * state's `ConsoleControls`); default: neither.
   */
  readonly controls?: RuntimeControls;
  /** Gets every decision (the admin API); default: a ring of the server's own. */
  readonly decisions?: DecisionLog;
}

/** The listen socket could not be bound; names the address. */
export class ListenError extends Error {
  /** Lets callers tell a bind failure apart without `instanceof`. */
  readonly code = "listen";
  /**
   * The message names `address` (`host:port`, `[v6]:port`) and the cause's message.
   *
   * @param address the address that could not be bound; kept as {@link ListenError.address}.
   */
  constructor(readonly address: string, cause: unknown) {
    super(`cannot listen on udp ${address}: ${cause instanceof Error ? cause.message : cause}`);
    this.name = "ListenError";
  }
}

/** A running router: one QUIC endpoint, an accept loop, connections in flight. */
export class GatehouseServer {
  readonly #endpoint: Deno.QuicEndpoint;
  readonly #listener: Deno.QuicListener;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #metrics: Metrics;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #slot: GenerationSlot;
  readonly #reloader: Reloader;
  readonly #admission: Admission;
  readonly #churn: ChurnCollector;
  readonly #controls: RuntimeControls;
  readonly #decisions: DecisionLog;
  #acceptLoop: Promise<void> = Promise.resolve();
  #draining = false;

  private constructor(
    endpoint: Deno.QuicEndpoint,
    listener: Deno.QuicListener,
    slot: GenerationSlot,
    reloader: Reloader,
    options: ServerOptions & { readonly metrics: Metrics },
  ) {
    this.#endpoint = endpoint;
    this.#listener = listener;
    this.#slot = slot;
    this.#reloader = reloader;
    this.#logger = options.logger;
    this.#now = options.now ?? (() => performance.now());
    this.#metrics = options.metrics;
    this.#controls = options.controls ?? NO_CONTROLS;
    this.#decisions = options.decisions ?? new DecisionLog();
    this.#metrics.beforeScrape(() => {
      const { chain, discovery } = this.#slot.current.snapshot;
      for (const plugin of chain.transports) {
        const { name, circuitOpen, abandonedWorkers, restarts, disconnectsDropped } = plugin;
        if (circuitOpen !== undefined) this.#metrics.breakerState(name, circuitOpen);
        if (abandonedWorkers !== undefined) {
          this.#metrics.workersAbandoned(name, plugin, abandonedWorkers);
        }
        if (restarts !== undefined) this.#metrics.pluginRestarts(name, plugin, restarts);
        if (disconnectsDropped !== undefined) {
          this.#metrics.disconnectsDropped(name, plugin, disconnectsDropped);
        }
      }
      for (const name of discovery.names) {
        const backends = discovery.discovered(name).length;
        const pushes = discovery.pushes(name);
        this.#metrics.discoveryState(name, {
          backends,
          synced: discovery.ready(name),
          restarts: discovery.watchRestarts(name),
          allocations: discovery.allocations(name),
          ...(pushes && { pushes: { count: pushes.count, ageSeconds: ageOf(pushes.lastAtMs) } }),
        });
      }
    });
    this.#admission = new Admission(slot.current.snapshot.config);
    this.#churn = new ChurnCollector(exposedGc(), this.#now);
  }

  /** Compiles `config`, binds `config.listen` and starts accepting connections. */
  static async start(config: Config, options: ServerOptions): Promise<GatehouseServer> {
    const tls = options.tls ?? await loadTlsMaterial(config.tls);
    const metrics = options.metrics ?? new Metrics();
    const controls = options.controls ?? NO_CONTROLS;
    const deps = {
      logger: options.logger,
      metrics,
      transports: options.transports ?? defaultTransportFactory,
      // Drains are read per decision, so a change applies to the next connection.
      routerOptions: { ...options.routerOptions, drained: () => controls.drained },
      ...(options.discoverySources ? { discoverySources: options.discoverySources } : {}),
      ...(options.discoveryWaitMs ? { discoveryWaitMs: options.discoveryWaitMs } : {}),
    };
    const snapshot = await buildSnapshot(config, deps);
    let bound: { endpoint: Deno.QuicEndpoint; listener: Deno.QuicListener };
    let reloader: Reloader;
    const slot = new GenerationSlot(snapshot);
    try {
      reloader = await Reloader.create(slot, deps);
      bound = listen(config, tls);
    } catch (err) {
      await closeSnapshot(snapshot);
      throw err;
    }
    const { endpoint, listener } = bound;
    const server = new GatehouseServer(endpoint, listener, slot, reloader, {
      ...options,
      metrics,
    });
    server.#acceptLoop = server.#accept();
    return server;
  }

  /** The bound UDP address (the real port when the config asked for port 0). */
  get addr(): Deno.NetAddr {
    return this.#endpoint.addr;
  }

  /** The config's generation: 1 for the config started with, one more per successful reload. */
  get configGeneration(): number {
    return this.#slot.count;
  }

  /** The config new connections are served with (the last one loaded or reloaded). */
  get config(): Config {
    return this.#slot.current.snapshot.config;
  }

  /**
   * Read-only views of the routes, live backends and plugins for the admin API; each call reads
   * the snapshot served at that moment.
   */
  get views(): RouterViews {
    return routerViews(() => this.#slot.current.snapshot, this.#metrics, this.#controls);
  }

  /**
   * The decision a player with `request`'s facts would get now, step by step (the admin API's
   * explain). Plugins are called; nothing is counted, recorded or told to `on_disconnect`.
   */
  async explain(request: ExplainRequest): Promise<Explanation> {
    // Leased like a connection's: a reload does not close the plugins under the explain.
    const generation = this.#slot.acquire();
    try {
      const ctx = { snapshot: generation.snapshot, controls: this.#controls, logger: this.#logger };
      return await explainDecision(ctx, request);
    } finally {
      generation.release();
    }
  }

  /** The newest decisions, and listeners for new ones (the admin API). */
  get decisions(): DecisionLog {
    return this.#decisions;
  }

  /**
   * Whether discovery provider `name` of the config now served has synced; `null` when that
   * config has no such provider (for `/readyz`).
   */
  discoveryReady(name: string): boolean | null {
    const { discovery } = this.#slot.current.snapshot;
    return discovery.names.includes(name) ? discovery.ready(name) : null;
  }

  /** Connections currently being served. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /**
   * Serves `config` from now on: routes, messages, referral key and plugins change at once for
   * new connections; connections in flight finish with the config they started with. Plugins
   * whose settings are unchanged keep running; changed ones load before the swap, removed ones
   * close once no older connection uses them. An invalid change (a plugin that cannot load, or
   * `listen`/`tls`/`quic`/`admin.listen`, which need a restart) leaves the running config in
   * force. Logs the outcome; never rejects.
   */
  async reload(config: Config): Promise<ReloadResult> {
    const result = await this.#reloader.reload(config);
    if (result.ok) this.#admission.update(config);
    logReloadResult(this.#logger, result);
    return result;
  }

  /** Who may connect: `access` and the connection limits, with the open counts (`admission.ts`). */
  get admission(): Admission {
    return this.#admission;
  }

  /**
   * Stops accepting (new connection attempts are refused at once), lets connections in flight
   * finish (at most `graceMs`), closes the socket and the plugins.
   */
  async close(graceMs = 5_000): Promise<void> {
    // Not `listener.stop()`: on Deno 2.9.6 a client dialling a stopped listener hears nothing
    // until its own idle timeout; the accept loop refuses instead while draining.
    this.#draining = true;
    await settleWithin(Promise.all(this.#inFlight), graceMs);
    // Closing the endpoint ends the accept loop (and any connection still open after the grace).
    this.#endpoint.close({ closeCode: 0, reason: "" });
    await this.#acceptLoop;
    await this.#reloader.close();
  }

  async #accept(): Promise<void> {
    try {
      for await (const incoming of this.#listener) {
        if (this.#draining) refuseQuietly(incoming);
        else if (this.#full()) this.#refuseAtCapacity(incoming);
        else this.#track(this.#handle(incoming));
      }
    } catch (err) {
      // The listener only fails once stopped or when the endpoint closes.
      this.#logger.debug("accept loop ended", { error: String(err) });
    }
  }

  /** Whether `limits.max_connections` are open: no address is needed to refuse the next one. */
  #full(): boolean {
    const max = this.config.limits.maxConnections;
    return max > 0 && this.#admission.open >= max;
  }

  /**
   * Refuses an attempt while the router is full without accepting it: QUIC CONNECTION_REFUSED
   * before any TLS work, the cheapest answer the runtime has (`quic_accept.ts`).
   */
  #refuseAtCapacity(incoming: Deno.QuicIncoming): void {
    refuseQuietly(incoming);
    this.#metrics.refused("capacity");
  }

  /**
   * Where a client's address becomes known: the attempt is accepted at 0.5-RTT
   * (`quic_accept.ts`) and admission looks at it (`admission.ts`); one refused then is closed at
   * once — before the client's Finished, so it costs the server's half of the handshake and no
   * more. Once the handshake has proven the address, admission counts the connection.
   */
  async #handle(incoming: Deno.QuicIncoming): Promise<void> {
    let conn: Deno.QuicConn;
    try {
      conn = acceptEarly(incoming);
    } catch (err) {
      this.#logger.debug("handshake failed", { error: String(err) });
      return;
    }
    const addr = conn.remoteAddr;
    let evicted = false;
    const arrived = this.#admission.arrive(addr.hostname, this.#now(), () => {
      evicted = true;
      closeQuietly(conn);
    });
    if (!arrived.ok) return this.#refuse(conn, arrived.reason, addr.hostname);
    if (!await handshakeDone(conn, this.config.limits.connectTimeoutMs)) {
      arrived.abandon();
      if (evicted) this.#metrics.refused("handshake_limit");
      else this.#logger.debug("handshake failed", {});
      return;
    }
    const admitted = arrived.validate(this.#now());
    if (!admitted.ok) return this.#refuse(conn, admitted.reason, addr.hostname);
    try {
      await this.#serve(conn, addr);
    } finally {
      admitted.release();
    }
  }

  /** Serves an admitted connection whose handshake has completed; never throws. */
  async #serve(conn: Deno.QuicConn, addr: Deno.NetAddr): Promise<void> {
    this.#metrics.connectionAccepted();
    const ignored = Promise.all([discardDatagrams(conn), discardUniStreams(conn)]);
    const generation = this.#slot.acquire();
    const snapshot = generation.snapshot;
    const logIp = snapshot.config.logging.logClientIp && this.#logger.enabled("warn");
    const remote = logIp ? formatAddr(addr.hostname, addr.port) : null;
    // The address the server read at accept, formatted once; only plugins need it otherwise.
    const client = snapshot.chain.empty ? "" : remote ?? formatAddr(addr.hostname, addr.port);
    const ctx = {
      snapshot,
      logger: this.#logger,
      remote,
      client,
      ip: addr.hostname,
      controls: this.#controls,
      decisions: this.#decisions,
      now: this.#now,
      metrics: this.#metrics,
    };
    try {
      await serveConnection(conn, ctx);
    } catch (err) {
      // A bug, not a client fault: log it, close, keep serving everyone else.
      this.#logger.error("connection failed", { error: String(err), stack: (err as Error)?.stack });
    } finally {
      generation.release();
      // Closed already unless serveConnection threw; the reads of what is ignored end with it.
      closeQuietly(conn);
      await ignored;
    }
  }

  /**
   * Closes a connection admission refused, before any stream is read, and counts it. (Before
   * the handshake completed the client sees no close code, see {@link ADMISSION_CLOSE_CODE}.)
   */
  #refuse(conn: Deno.QuicConn, reason: RefusalReason, hostname: string): void {
    conn.close({ closeCode: ADMISSION_CLOSE_CODE, reason: REFUSAL_TEXTS[reason] });
    this.#metrics.refused(reason);
    if (!this.#logger.enabled("debug")) return;
    const logIp = this.#slot.current.snapshot.config.logging.logClientIp;
    this.#logger.debug("refused", { reason, ...(logIp ? { remote: hostname } : {}) });
  }

  /** Keeps `task` (one accepted attempt) in flight until it ends. */
  #track(task: Promise<void>): void {
    this.#inFlight.add(task);
    task.catch(() => {}).finally(() => {
      this.#inFlight.delete(task);
      this.#churn.ended();
    });
  }
}

/** Seconds since `atMs` (wall clock), or `null` when it never happened. */
function ageOf(atMs: number | null): number | null {
  return atMs === null ? null : Math.max(0, (Date.now() - atMs) / 1000);
}

/** Refuses a connection attempt (CONNECTION_REFUSED); one the client gave up on is fine. */
function refuseQuietly(incoming: Deno.QuicIncoming): void {
  try {
    incoming.refuse();
  } catch {
    // Already gone.
  }
}

/** Binds `config.listen` and starts listening with the TLS material and ALPN list. */
function listen(
  config: Config,
  tls: TlsMaterial,
): { endpoint: Deno.QuicEndpoint; listener: Deno.QuicListener } {
  const { hostname, port } = config.listen;
  let endpoint: Deno.QuicEndpoint;
  try {
    endpoint = new Deno.QuicEndpoint({ hostname, port });
  } catch (err) {
    throw new ListenError(formatAddr(hostname, port), err);
  }
  try {
    const listener = endpoint.listen({
      alpnProtocols: expandAlpn(config.tls.alpn),
      cert: tls.cert,
      key: tls.key,
      maxIdleTimeout: config.quic.maxIdleTimeoutMs,
      ...TRANSPORT_LIMITS,
    });
    return { endpoint, listener };
  } catch (err) {
    endpoint.close();
    throw new ListenError(formatAddr(hostname, port), err);
  }
}

/** `host:port`, bracketing IPv6 literals. */
export function formatAddr(hostname: string, port: number): string {
  return hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
}
