/**
 * The hook connections of one running plugin process (docs/plugins.md §7): up to `size` Unix
 * socket connections, each carrying one call at a time (frames carry no ids, so a response is
 * the next frame on the connection the request went out on). A call past its deadline abandons
 * its connection — closed, never reused, since a late answer would be read by the next call —
 * and the next call opens a fresh one. Calls beyond `size` wait for a free connection within
 * their own deadline.
 */

import { PluginError } from "../transport.ts";
import type { Watchdog } from "../watchdog.ts";
import { type ByteReader, type ByteWriter, readFrame, writeAll } from "./frames.ts";

/** One hook connection. */
export interface HookConn extends ByteReader, ByteWriter {
  /** Closes it; a read or write in progress fails. */
  close(): void;
}

/** Opens a hook connection to the plugin's socket. */
export type HookConnector = (path: string) => Promise<HookConn>;

/** The default connector: `Deno.connect` on the Unix socket. */
const connectUnix: HookConnector = (path) => Deno.connect({ transport: "unix", path });

/** Settings of a {@link HookPool}. */
export interface HookPoolOptions {
  /** The plugin's name (errors name it). */
  readonly plugin: string;
  /** The socket the plugin listens on. */
  readonly path: string;
  /** Most connections open at once (`pool_size`). */
  readonly size: number;
  /** Deadlines of every call. */
  readonly watchdog: Watchdog;
  /** Opens a connection (default {@link connectUnix}). */
  readonly connect?: HookConnector;
}

interface Waiter {
  readonly grant: (conn: HookConn | null) => void;
}

/** A call's progress, as its deadline alarm finds it. */
interface PendingCall {
  conn: HookConn | null;
  waiter: Waiter | null;
  expired: boolean;
}

/** See the module comment. */
export class HookPool {
  readonly #o: HookPoolOptions;
  readonly #connect: HookConnector;
  readonly #idle: HookConn[] = [];
  readonly #busy = new Set<HookConn>();
  readonly #waiters: Waiter[] = [];
  #opening = 0;
  #closed = false;
  #abandoned = 0;
  /** The last answer's payload size: the next answer is read in one go if it is no larger. */
  #expected = 0;

  /** Opens nothing until the first call. */
  constructor(options: HookPoolOptions) {
    this.#o = options;
    this.#connect = options.connect ?? connectUnix;
  }

  /** Connections given up because a call passed its deadline on them. */
  get abandoned(): number {
    return this.#abandoned;
  }

  /**
   * Sends `frame` on a free connection and, when `reply` is true, resolves with the next frame
   * read from it. Settles within `timeoutMs` (waiting for a connection included), rejecting with
   * a `PluginError`: `timeout`, `unavailable` (cannot connect, connection lost, pool closed) or
   * `bad_response` (an oversized frame).
   */
  call(frame: Uint8Array, timeoutMs: number, reply: boolean): Promise<Uint8Array | null> {
    const { watchdog, plugin } = this.#o;
    const call: PendingCall = { conn: null, waiter: null, expired: false };
    return new Promise((resolve, reject) => {
      const alarm = watchdog.arm(timeoutMs, () => {
        call.expired = true;
        if (call.conn) {
          // Abandoned: closing it also fails the read or write in progress.
          this.#abandoned++;
          this.#discard(call.conn);
        }
        if (call.waiter) this.#unwait(call.waiter);
        reject(new PluginError(plugin, "timeout", `no answer within ${timeoutMs} ms`));
      });
      this.#exchange(call, frame, reply).then((answer) => {
        alarm.clear();
        resolve(answer);
      }, (err) => {
        alarm.clear();
        reject(asPluginError(plugin, err));
      });
    });
  }

  // One call's work; after its deadline it only cleans up (its promise has already rejected).
  async #exchange(
    call: PendingCall,
    frame: Uint8Array,
    reply: boolean,
  ): Promise<Uint8Array | null> {
    const conn = await this.#acquire(call);
    if (call.expired) {
      this.#release(conn);
      throw late(this.#o.plugin);
    }
    call.conn = conn;
    try {
      await writeAll(conn, frame);
      const answer = reply ? await readFrame(conn, this.#o.plugin, this.#expected) : null;
      if (answer) this.#expected = answer.length;
      this.#release(conn);
      return answer;
    } catch (err) {
      this.#discard(conn);
      throw err;
    }
  }

  /** Closes every connection; calls waiting or in progress fail as `unavailable`. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const conn of [...this.#idle, ...this.#busy]) closeQuietly(conn);
    this.#idle.length = 0;
    this.#busy.clear();
    for (const w of this.#waiters.splice(0)) w.grant(null);
  }

  async #acquire(call: PendingCall): Promise<HookConn> {
    const { plugin, size } = this.#o;
    while (true) {
      if (this.#closed) throw gone(plugin);
      const idle = this.#idle.pop();
      if (idle) return this.#take(idle);
      if (this.#busy.size + this.#opening < size) return this.#take(await this.#open());
      const granted = await new Promise<HookConn | null>((grant) => {
        call.waiter = { grant };
        this.#waiters.push(call.waiter);
      });
      call.waiter = null;
      if (granted) return granted;
      // A connection ended (room to open another), the pool closed, or the deadline passed.
      if (call.expired) throw late(plugin);
    }
  }

  async #open(): Promise<HookConn> {
    this.#opening++;
    try {
      const conn = await this.#connect(this.#o.path);
      if (this.#closed) {
        closeQuietly(conn);
        throw gone(this.#o.plugin);
      }
      return conn;
    } finally {
      this.#opening--;
    }
  }

  #unwait(waiter: Waiter): void {
    const i = this.#waiters.indexOf(waiter);
    if (i >= 0) this.#waiters.splice(i, 1);
    waiter.grant(null);
  }

  #take(conn: HookConn): HookConn {
    this.#busy.add(conn);
    return conn;
  }

  // A finished call's connection goes to the first waiter, else back to the idle list.
  #release(conn: HookConn): void {
    if (!this.#busy.has(conn)) return;
    const waiter = this.#waiters.shift();
    if (waiter) return waiter.grant(conn);
    this.#busy.delete(conn);
    this.#idle.push(conn);
  }

  // A broken or abandoned connection is closed; a waiter may open a replacement.
  #discard(conn: HookConn): void {
    if (!this.#busy.delete(conn)) return;
    closeQuietly(conn);
    this.#waiters.shift()?.grant(null);
  }
}

function closeQuietly(conn: HookConn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}

// Thrown after the deadline; its call has already rejected with the real timeout error.
function late(plugin: string): PluginError {
  return new PluginError(plugin, "timeout", "call expired");
}

function gone(plugin: string): PluginError {
  return new PluginError(plugin, "unavailable", "the plugin process is not running");
}

function asPluginError(plugin: string, err: unknown): PluginError {
  if (err instanceof PluginError) return err;
  const why = err instanceof Error ? err.message : String(err);
  return new PluginError(plugin, "unavailable", `hook connection failed: ${why}`, { cause: err });
}
