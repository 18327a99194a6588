import type { Config } from "../config/mod.ts";
import type { Logger } from "../observability/mod.ts";
import type { RouterOptions } from "../routing/mod.ts";
import { defaultTransportFactory, type TransportFactory } from "../plugins/mod.ts";
import { expandAlpn } from "./alpn.ts";
import { serveConnection } from "./connection.ts";
import { PER_IP_CLOSE_CODE, PerIpLimiter } from "./per_ip_limiter.ts";
import { buildSnapshot, type RuntimeSnapshot } from "./snapshot.ts";
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
  readonly #inFlight = new Set<Promise<void>>();
  readonly #perIp: PerIpLimiter;
  #snapshot: RuntimeSnapshot;
  #acceptLoop: Promise<void> = Promise.resolve();

  private constructor(
    endpoint: Deno.QuicEndpoint,
    listener: Deno.QuicListener,
    snapshot: RuntimeSnapshot,
    options: ServerOptions,
  ) {
    this.#endpoint = endpoint;
    this.#listener = listener;
    this.#snapshot = snapshot;
    this.#logger = options.logger;
    this.#now = options.now ?? (() => performance.now());
    this.#perIp = new PerIpLimiter(snapshot.config.limits.maxConnectionsPerIp);
  }

  /** Compiles `config`, binds `config.listen` and starts accepting connections. */
  static async start(config: Config, options: ServerOptions): Promise<GatehouseServer> {
    const tls = options.tls ?? await loadTlsMaterial(config.tls);
    const snapshot = await buildSnapshot(config, {
      logger: options.logger,
      transports: options.transports ?? defaultTransportFactory,
      ...(options.routerOptions ? { routerOptions: options.routerOptions } : {}),
    });
    let bound: { endpoint: Deno.QuicEndpoint; listener: Deno.QuicListener };
    try {
      bound = listen(config, tls);
    } catch (err) {
      await snapshot.chain.close();
      throw err;
    }
    const { endpoint, listener } = bound;
    const server = new GatehouseServer(endpoint, listener, snapshot, options);
    server.#acceptLoop = server.#accept();
    return server;
  }

  /** The bound UDP address (the real port when the config asked for port 0). */
  get addr(): Deno.NetAddr {
    return this.#endpoint.addr;
  }

  /** Connections currently being served. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** The `limits.max_connections_per_ip` counter (`refused`: connections closed by it). */
  get perIpLimiter(): PerIpLimiter {
    return this.#perIp;
  }

  /** Stops accepting, lets connections in flight finish (at most `graceMs`), closes the socket. */
  async close(graceMs = 5_000): Promise<void> {
    this.#listener.stop();
    await settleWithin(Promise.all(this.#inFlight), graceMs);
    // A stopped listener's iterator does not end by itself on Deno 2.9.6; closing the endpoint
    // ends it (and any connection still open after the grace period).
    this.#endpoint.close({ closeCode: 0, reason: "" });
    await this.#acceptLoop;
    await this.#snapshot.chain.close();
  }

  async #accept(): Promise<void> {
    try {
      for await (const incoming of this.#listener) this.#track(this.#handle(incoming));
    } catch (err) {
      // The listener only fails once stopped or when the endpoint closes.
      this.#logger.debug("accept loop ended", { error: String(err) });
    }
  }

  async #handle(incoming: Deno.QuicIncoming): Promise<void> {
    let conn: Deno.QuicConn;
    try {
      conn = await incoming.accept();
    } catch (err) {
      this.#logger.debug("handshake failed", { error: String(err) });
      return;
    }
    const snapshot = this.#snapshot;
    const logIp = snapshot.config.logging.logClientIp && this.#logger.enabled("warn");
    // Only read when needed (it costs a resource lookup per connection).
    const addr = logIp || this.#perIp.enabled ? conn.remoteAddr : null;
    // The per-IP limit can act only now, after the handshake: see per_ip_limiter.ts for why.
    const release = addr ? this.#perIp.admit(addr.hostname) : null;
    if (addr && !release) {
      conn.close({ closeCode: PER_IP_CLOSE_CODE, reason: "too many connections" });
      this.#logger.debug("refused: per-ip limit", logIp ? { remote: addr.hostname } : {});
      return;
    }
    const remote = logIp && addr ? formatAddr(addr.hostname, addr.port) : null;
    const ctx = { snapshot, logger: this.#logger, remote, now: this.#now };
    try {
      await serveConnection(conn, ctx);
    } catch (err) {
      // A bug, not a client fault: log it, close, keep serving everyone else.
      this.#logger.error("connection failed", { error: String(err), stack: (err as Error)?.stack });
      closeQuietly(conn);
    } finally {
      release?.();
    }
  }

  #track(task: Promise<void>): void {
    this.#inFlight.add(task);
    task.catch(() => {}).finally(() => this.#inFlight.delete(task));
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
