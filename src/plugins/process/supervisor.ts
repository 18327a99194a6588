/**
 * Keeps one plugin's process running (docs/plugins.md §7.5 "Supervision"): the first start must
 * reach `ready` within `ready_timeout` or the load fails; a process that exits later is started
 * again after a backoff (100 ms doubling to 10 s, reset after 60 s up), and while it is down its
 * calls fail at once as `unavailable`. Stopping closes stdin, sends SIGTERM, then SIGKILL.
 */

import { dirname } from "node:path";
import type { Backend } from "../../config/mod.ts";
import type { Logger } from "../../observability/mod.ts";
import { Backoff, type BackoffOptions as TimingBackoff } from "../../timing/mod.ts";
import { PluginError } from "../transport.ts";
import type { Alarm, Watchdog } from "../watchdog.ts";
import type { PluginLog } from "../wasm/plugin_log.ts";
import { PluginChild } from "./child.ts";
import type { LifecycleDispatcher } from "./lifecycle.ts";
import { type HookConnector, HookPool } from "./pool.ts";

/**
 * Restart delays: the first, `initialMs` (100 ms), doubles with each failed run up to `maxMs`
 * (10 s).
 */
export interface BackoffOptions extends Pick<TimingBackoff, "initialMs" | "maxMs"> {
  /** A run up at least this long (60 s) starts the doubling over. */
  readonly resetAfterMs: number;
}

/** The defaults of docs/plugins.md §7. */
export const DEFAULT_BACKOFF: BackoffOptions = {
  initialMs: 100,
  maxMs: 10_000,
  resetAfterMs: 60_000,
};

/** SIGTERM → SIGKILL grace of the stop sequence, ms. */
export const STOP_GRACE_MS = 2_000;

/** Settings of a {@link Supervisor}. */
export interface SupervisorOptions {
  /** The plugin's name. */
  readonly name: string;
  /** Program and arguments. */
  readonly argv: readonly string[];
  /** The child's whole environment. */
  readonly env: Readonly<Record<string, string>>;
  /** `configure.params.config` of the first start. */
  readonly config: unknown;
  /** The socket the plugin must listen on. */
  readonly socketPath: string;
  /** Its folder, created 0700. */
  readonly socketDir: string;
  /** The child's working directory (the config file's folder). */
  readonly workDir: string;
  /** Start → `ready` bound, ms; also how long a reconfigure waits for an answer. */
  readonly readyTimeoutMs: number;
  /** Hook connections per process. */
  readonly poolSize: number;
  /** The plugin's own logger. */
  readonly logger: Logger;
  /** Its rate-limited log. */
  readonly log: PluginLog;
  /** Acts on stdout lines. */
  readonly dispatcher: LifecycleDispatcher;
  /** Every deadline of this plugin. */
  readonly watchdog: Watchdog;
  /** `set_targets` pushes. */
  readonly onTargets: (setId: string, backends: readonly Backend[]) => void;
  /** Restart delays (default {@link DEFAULT_BACKOFF}). */
  readonly backoff?: BackoffOptions;
  /** Opens hook connections (default: the Unix socket). */
  readonly connect?: HookConnector;
  /** Monotonic ms (default `performance.now`). */
  readonly now?: () => number;
}

/** A process that is up: its child, hook pool and hooks. */
interface Running {
  readonly child: PluginChild;
  readonly pool: HookPool;
  readonly hooks: ReadonlySet<string>;
  readonly upAt: number;
}

/** See the module comment. */
export class Supervisor {
  readonly #o: SupervisorOptions;
  readonly #resetAfterMs: number;
  readonly #backoff: Backoff;
  readonly #now: () => number;
  #config: unknown;
  #running: Running | null = null;
  #starting: PluginChild | null = null;
  #restarts = 0;
  #retry: Alarm | null = null;
  #closed = false;

  /** Starts nothing until {@link start}. */
  constructor(options: SupervisorOptions) {
    this.#o = options;
    const { initialMs, maxMs, resetAfterMs } = options.backoff ?? DEFAULT_BACKOFF;
    this.#backoff = new Backoff({ initialMs, maxMs });
    this.#resetAfterMs = resetAfterMs;
    this.#now = options.now ?? (() => performance.now());
    this.#config = options.config;
  }

  /** Processes started after the first (restarts, successful or not). */
  get restarts(): number {
    return this.#restarts;
  }

  /** The running process's id, `null` while down (logs, tests). */
  get pid(): number | null {
    return this.#running?.child.pid ?? null;
  }

  /**
   * The first start: resolves once the plugin is `ready`. Rejects with a `load` error naming
   * the plugin (with its last stderr lines) when it cannot start, refuses its configure, sends
   * an invalid `ready` or is not ready within `ready_timeout`; nothing is left running then.
   */
  async start(): Promise<void> {
    try {
      this.#up(await this.#launch());
    } catch (err) {
      throw err instanceof PluginError
        ? err
        : new PluginError(this.#o.name, "load", String(err), { cause: err });
    }
  }

  /**
   * The running process's hook pool and hooks; throws `unavailable` at once while the process
   * is down (restarting) or closed.
   */
  current(): { readonly pool: HookPool; readonly hooks: ReadonlySet<string> } {
    if (this.#running) return this.#running;
    throw new PluginError(this.#o.name, "unavailable", "the plugin process is down (restarting)");
  }

  /**
   * Sends `configure` with a new `config` to the running process. The plugin's `{"error":..}`
   * keeps the old config and rejects with a `load` error naming the plugin; silence past
   * `ready_timeout` counts as accepted. While the process is down, the new config is what the
   * next start sends.
   */
  async reconfigure(config: unknown): Promise<void> {
    const running = this.#running;
    if (running) {
      const error = await running.child.configure(config, this.#o.readyTimeoutMs);
      if (error !== null) {
        throw new PluginError(this.#o.name, "load", `configure refused: ${error}`);
      }
    }
    this.#config = config;
  }

  /** Stops the process (close stdin, SIGTERM, SIGKILL after 2 s) and any pending restart. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#retry?.clear();
    const running = this.#running;
    this.#running = null;
    running?.pool.close();
    const children = [running?.child, this.#starting].filter((c) => c !== undefined && c !== null);
    await Promise.all(children.map((c) => c.stop(STOP_GRACE_MS)));
    // The socket file stays: a reload that replaces this plugin has already started its
    // successor on the same path (stable per name), and removing the file would cut the new
    // process off. The next start removes a stale one.
  }

  // Spawns a process and waits for its `ready`; on any failure it is killed before rejecting.
  async #launch(): Promise<Running> {
    const { name, socketDir, socketPath, readyTimeoutMs, watchdog } = this.#o;
    await prepareSocketDir(socketDir, socketPath);
    const child = new PluginChild(this.#o);
    this.#starting = child;
    let why: string | null = null;
    const fail = (reason: string) => {
      why ??= reason;
      child.kill("SIGKILL");
    };
    const timer = watchdog.arm(readyTimeoutMs, () => fail(`not ready within ${readyTimeoutMs} ms`));
    child.configure(this.#config, readyTimeoutMs).then((error) => {
      if (error !== null) fail(`configure refused: ${error}`);
    });
    try {
      const hooks = await child.ready();
      const pool = new HookPool({
        plugin: name,
        path: socketPath,
        size: this.#o.poolSize,
        watchdog,
        ...(this.#o.connect ? { connect: this.#o.connect } : {}),
      });
      return { child, pool, hooks: new Set(hooks), upAt: this.#now() };
    } catch (err) {
      child.kill("SIGKILL");
      await child.exited;
      const tail = child.stderrTail.length > 0
        ? `; last stderr: ${child.stderrTail.join(" | ")}`
        : "";
      throw new PluginError(name, "load", `${why ?? errorText(err)}${tail}`, { cause: err });
    } finally {
      timer.clear();
      this.#starting = null;
    }
  }

  #up(running: Running): void {
    if (this.#closed) {
      running.pool.close();
      running.child.stop(STOP_GRACE_MS);
      return;
    }
    this.#running = running;
    this.#o.logger.info("plugin process ready", { pid: running.child.pid });
    running.child.exited.then((status) => this.#down(running, status));
  }

  #down(running: Running, status: Deno.CommandStatus): void {
    if (this.#running !== running) return;
    this.#running = null;
    running.pool.close();
    if (this.#now() - running.upAt >= this.#resetAfterMs) this.#backoff.reset();
    this.#o.logger.warn("plugin process exited; restarting it", {
      pid: running.child.pid,
      code: status.code,
      signal: status.signal ?? undefined,
      restart_in_ms: this.#schedule(),
    });
  }

  // Arms the next start after the backoff; returns the delay.
  #schedule(): number {
    const delay = this.#backoff.fail();
    if (!this.#closed) this.#retry = this.#o.watchdog.arm(delay, () => this.#restart());
    return delay;
  }

  async #restart(): Promise<void> {
    this.#retry = null;
    if (this.#closed) return;
    this.#restarts++;
    try {
      this.#up(await this.#launch());
    } catch (err) {
      if (this.#closed) return;
      this.#o.logger.error("plugin process failed to start again", {
        error: errorText(err),
        restart_in_ms: this.#schedule(),
      });
    }
  }
}

/**
 * The plugin's private folder (0700, so no other user can reach its socket) without a stale
 * socket file from an earlier run, which would make the plugin's listen fail. The folders'
 * paths are predictable (`/tmp/gatehouse-<hash>/<name>`, docs/plugins.md §7), so another local
 * user could create them first: the base folder must be a real folder that nobody else may
 * write or enter (mode 0700, as this creates it; one made by another user with that mode cannot
 * be entered, and mkdir fails), and the plugin's folder a real folder too. (The folders are
 * created before they are checked because the router may write only the plugin's folder; a
 * check that fails refuses the start before anything uses them.)
 */
async function prepareSocketDir(dir: string, socket: string): Promise<void> {
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  await checkPrivateFolder(dirname(dir));
  await checkPrivateFolder(dir, true);
  await Deno.chmod(dir, 0o700);
  try {
    await Deno.remove(socket);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
}

/** Throws unless `path` is a folder (not a symlink) that only its owner may use. */
async function checkPrivateFolder(path: string, fixMode = false): Promise<void> {
  const info = await Deno.lstat(path);
  if (info.isSymlink || !info.isDirectory) {
    throw new Error(`${path} is not a folder (a symlink or a file is in its place)`);
  }
  const open = (info.mode ?? 0) & 0o077;
  if (open !== 0 && !fixMode) {
    throw new Error(
      `${path} may be used by other users (mode ${((info.mode ?? 0) & 0o777).toString(8)}); ` +
        "remove it so the router can create it private",
    );
  }
}

function errorText(err: unknown): string {
  if (err instanceof PluginError) return err.message.replace(/^plugin "[^"]*": /, "");
  return err instanceof Error ? err.message : String(err);
}
