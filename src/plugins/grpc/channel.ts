/**
 * The long-lived channel of one gRPC plugin: at most one live connection, dialled on demand,
 * replaced after GOAWAY or loss, and a jittered exponential backoff after failed dials during
 * which calls fail fast instead of waiting for a server that is known to be down.
 */
import type { Logger } from "../../observability/mod.ts";
import { Backoff, type BackoffOptions as TimingBackoff } from "../../timing/mod.ts";
import { type ByteConn, H2Connection } from "./connection.ts";

/** Opens the byte stream to `hostname:port`; rejects when it cannot. */
export type Connector = (
  target: { hostname: string; port: number },
  signal: AbortSignal,
) => Promise<ByteConn>;

/** The default connector: TCP with Nagle off (Nagle costs ~40 ms a call, docs/plugins.md §6.3). */
export const connectTcp: Connector = async ({ hostname, port }, signal): Promise<Deno.TcpConn> => {
  const conn = await Deno.connect({ hostname, port, signal });
  conn.setNoDelay(true);
  return conn;
};

/**
 * Reconnect backoff (gRPC's connection-backoff shape, shorter bounds for a router): the wait
 * after the first failed dial, its upper bound, the growth per further failure, and a relative
 * jitter (the wait is scaled by a factor in [1 - jitter, 1 + jitter]).
 */
export type BackoffOptions = TimingBackoff & {
  readonly multiplier: number;
  readonly jitter: number;
};

/** The defaults: 100 ms, ×1.6 per failure, at most 5 s, ±20 %. */
export const DEFAULT_BACKOFF: BackoffOptions = {
  initialMs: 100,
  maxMs: 5_000,
  multiplier: 1.6,
  jitter: 0.2,
};

/** What a caller gets: a connection to start a stream on, or why there is none. */
export type Acquired =
  | { readonly ok: true; readonly conn: H2Connection }
  | { readonly ok: false; readonly reason: string };

/** Options of a channel; clock and randomness are injectable for tests. */
export interface ChannelOptions {
  readonly hostname: string;
  readonly port: number;
  readonly logger: Logger;
  readonly connect: Connector;
  readonly connectTimeoutMs: number;
  readonly backoff: BackoffOptions;
  /** Milliseconds on a monotonic clock. */
  readonly now: () => number;
  /** Uniform in [0, 1). */
  readonly random: () => number;
}

/** One plugin's connection manager. */
export class Channel {
  readonly #o: ChannelOptions;
  #conn: H2Connection | null = null;
  #dialing: Promise<Acquired> | null = null;
  readonly #backoff: Backoff;
  #retryAt = 0;
  #lastFailure = "";
  #closed = false;
  readonly #draining = new Set<H2Connection>();

  constructor(options: ChannelOptions) {
    this.#o = options;
    this.#backoff = new Backoff(options.backoff, options.random);
  }

  /**
   * Whether the last dial failed: calls fail fast until the back-off has run out, then one
   * dial is tried for all of them (a breaker open, then half-open) — until a dial succeeds.
   */
  get failing(): boolean {
    return this.#backoff.failures > 0 && !this.#closed;
  }

  /**
   * A usable connection: the live one at once (synchronously, the hot path), else the result of
   * a dial — or a fast failure while the backoff after a failed dial has not run out.
   */
  acquire(): Acquired | Promise<Acquired> {
    if (this.#closed) return { ok: false, reason: "plugin is closed" };
    const conn = this.#conn;
    if (conn !== null && conn.available) return { ok: true, conn };
    if (this.#dialing) return this.#dialing;
    if (this.#backoff.failures > 0 && this.#o.now() < this.#retryAt) {
      return { ok: false, reason: `server unreachable (${this.#lastFailure}); retrying later` };
    }
    this.#dialing = this.#dial()
      .catch((err: unknown): Acquired => ({ ok: false, reason: `dial failed: ${String(err)}` }))
      .finally(() => {
        this.#dialing = null;
      });
    return this.#dialing;
  }

  /** Closes every connection; later calls fail fast. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#dialing;
    const all = [...this.#draining];
    if (this.#conn) all.push(this.#conn);
    this.#conn = null;
    await Promise.all(all.map((c) => c.close()));
  }

  async #dial(): Promise<Acquired> {
    const { hostname, port } = this.#o;
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), this.#o.connectTimeoutMs);
    let socket: ByteConn;
    try {
      socket = await this.#o.connect({ hostname, port }, abort.signal);
    } catch (err) {
      return this.#dialFailed(abort.signal.aborted ? "connect timed out" : errorText(err));
    } finally {
      clearTimeout(timer);
    }
    if (this.#closed) {
      socket.close();
      return { ok: false, reason: "plugin is closed" };
    }
    if (this.#backoff.failures > 0) {
      this.#o.logger.info("grpc plugin reachable again", {
        after_failures: this.#backoff.failures,
      });
    }
    this.#backoff.reset();
    this.#retryAt = 0;
    this.#retire(this.#conn);
    const conn = new H2Connection(socket, this.#o.logger, {
      now: this.#o.now,
      pingTimeoutMs: this.#o.connectTimeoutMs,
    });
    conn.onClosed(() => {
      this.#draining.delete(conn);
      if (this.#conn === conn) this.#conn = null;
    });
    this.#conn = conn;
    return { ok: true, conn };
  }

  // An old connection may still be finishing streams after GOAWAY; keep it until it closes.
  #retire(conn: H2Connection | null): void {
    if (conn === null) return;
    this.#draining.add(conn);
    conn.onClosed(() => this.#draining.delete(conn));
  }

  #dialFailed(reason: string): Acquired {
    const wait = this.#backoff.fail();
    this.#retryAt = this.#o.now() + wait;
    this.#lastFailure = reason;
    this.#o.logger.warn("grpc plugin unreachable", {
      address: `${this.#o.hostname}:${this.#o.port}`,
      error: reason,
      failures: this.#backoff.failures,
      retry_in_ms: Math.round(wait),
    });
    return { ok: false, reason: `cannot connect: ${reason}` };
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
