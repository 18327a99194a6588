/**
 * One run of a plugin's process: spawned with exactly the environment it is given, its stdout
 * read as lifecycle lines, its stderr logged line by line, its `ready` checked against the socket
 * the router named. The supervisor starts, watches and replaces these.
 */

import type { Backend } from "../../config/mod.ts";
import type { Logger } from "../../observability/mod.ts";
import { PluginError } from "../transport.ts";
import type { Watchdog } from "../watchdog.ts";
import type { PluginLog } from "../wasm/plugin_log.ts";
import {
  configureLine,
  type LifecycleDispatcher,
  type LifecycleEvents,
  MAX_LINE_BYTES,
  readLines,
} from "./lifecycle.ts";

/** Hooks this router calls; a plugin must serve at least one. */
const ROUTER_HOOKS = ["on_connect", "on_disconnect"];
/** Stderr lines kept for the message of a failed start. */
const STDERR_TAIL = 10;
/** Longest stderr line logged, bytes (the rest of the line is skipped). */
const MAX_STDERR_LINE = 4096;
/** How long after its exit a process's remaining output is waited for, ms. */
const OUTPUT_GRACE_MS = 500;

/** What a {@link PluginChild} needs; shared by every run of one plugin. */
export interface ChildOptions {
  /** The plugin's name. */
  readonly name: string;
  /** Program and arguments. */
  readonly argv: readonly string[];
  /** The child's whole environment. */
  readonly env: Readonly<Record<string, string>>;
  /** The socket the plugin must listen on, and its folder. */
  readonly socketPath: string;
  /** See {@link socketPath}. */
  readonly socketDir: string;
  /** The child's working directory (the config file's folder). */
  readonly workDir: string;
  /** The plugin's own logger. */
  readonly logger: Logger;
  /** The plugin's rate-limited log (its `log` pushes and stderr lines). */
  readonly log: PluginLog;
  /** Acts on stdout lines. */
  readonly dispatcher: LifecycleDispatcher;
  /** Configure-answer deadlines and the stop sequence's SIGKILL. */
  readonly watchdog: Watchdog;
  /** `set_targets` pushes. */
  readonly onTargets: (setId: string, backends: readonly Backend[]) => void;
}

/** Every child still running, killed if the router exits without stopping them. */
const live = new Set<Deno.ChildProcess>();
let exitHookInstalled = false;

/** See the module comment. */
export class PluginChild {
  readonly #o: ChildOptions;
  readonly #process: Deno.ChildProcess;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  readonly #answers: ((error: string | null) => void)[] = [];
  readonly #tail: string[] = [];
  readonly #ready: Promise<readonly string[]>;
  #readyResolve!: (hooks: readonly string[]) => void;
  #readyReject!: (err: PluginError) => void;
  #settled = false;
  /** Settles when the process has exited and its output is read. */
  readonly exited: Promise<Deno.CommandStatus>;

  /** Spawns the process; throws if it cannot be started (no such program, no permission). */
  constructor(options: ChildOptions) {
    this.#o = options;
    const [program, ...args] = options.argv;
    this.#process = new Deno.Command(program!, {
      args,
      env: { ...options.env },
      clearEnv: true,
      cwd: options.workDir,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    trackLive(this.#process);
    this.#stdin = this.#process.stdin.getWriter();
    this.#ready = new Promise((resolve, reject) => {
      this.#readyResolve = resolve;
      this.#readyReject = reject;
    });
    this.#ready.catch(() => {});
    const stdout = this.#readStdout();
    const stderr = readLines(this.#process.stderr, MAX_STDERR_LINE, (l) => this.#stderr(l), true);
    this.exited = this.#process.status.then(async (status) => {
      live.delete(this.#process);
      // What it wrote last is read before its exit counts (it may explain the exit), but a
      // process it left behind holding the pipes open cannot hold up its restart.
      await settledWithin(Promise.all([stdout, stderr]), OUTPUT_GRACE_MS, options.watchdog);
      this.#fail(`exited (${describe(status)}) before it was ready`);
      // No answer came; a reconfigure's config then goes to the next start instead.
      for (const answer of this.#answers.splice(0)) answer(null);
      return status;
    });
  }

  /** The process id (logs, tests). */
  get pid(): number {
    return this.#process.pid;
  }

  /** The last stderr lines, oldest first (for the message of a failed start). */
  get stderrTail(): readonly string[] {
    return this.#tail;
  }

  /**
   * Resolves with the hooks the plugin serves once it sent a valid `ready`; rejects with a
   * `load` error when it exits first, sends an invalid one, or breaks the protocol.
   */
  ready(): Promise<readonly string[]> {
    return this.#ready;
  }

  /**
   * Sends `configure` with `config`; resolves with the plugin's `error` text, or `null` when it
   * answers `result` or says nothing within `answerMs` (answering is optional).
   */
  configure(config: unknown, answerMs: number): Promise<string | null> {
    const { name, socketPath, socketDir, watchdog } = this.#o;
    return new Promise((resolve) => {
      const alarm = watchdog.arm(answerMs, () => {
        const i = this.#answers.indexOf(settle);
        if (i >= 0) this.#answers.splice(i, 1);
        resolve(null);
      });
      const settle = (error: string | null) => {
        alarm.clear();
        resolve(error);
      };
      this.#answers.push(settle);
      this.#stdin.write(configureLine(name, socketPath, socketDir, config)).catch(() => {
        // The process is gone; `exited` answers every waiter.
      });
    });
  }

  /**
   * The stop sequence: close stdin, SIGTERM, SIGKILL after `graceMs`. Resolves once it exited.
   */
  async stop(graceMs: number): Promise<Deno.CommandStatus> {
    this.#stdin.close().catch(() => {});
    this.kill("SIGTERM");
    const alarm = this.#o.watchdog.arm(graceMs, () => this.kill("SIGKILL"));
    try {
      return await this.exited;
    } finally {
      alarm.clear();
    }
  }

  /** Sends `signal` unless the process already exited. */
  kill(signal: Deno.Signal): void {
    try {
      this.#process.kill(signal);
    } catch {
      // Already exited.
    }
  }

  async #readStdout(): Promise<void> {
    const events: LifecycleEvents = {
      ready: (socket, hooks) => this.#onReady(socket, hooks),
      answer: (error) => this.#answers.shift()?.(error),
      targets: (setId, backends) => this.#o.onTargets(setId, backends),
    };
    const end = await readLines(
      this.#process.stdout,
      MAX_LINE_BYTES,
      (line) => this.#o.dispatcher.line(line, events),
    );
    if (end === "too_long") {
      this.#protocolError(`a stdout line is over ${MAX_LINE_BYTES} bytes`);
    }
  }

  #onReady(socket: string, hooks: readonly string[]): void {
    const { socketPath } = this.#o;
    if (socket !== socketPath) {
      return this.#protocolError(
        `ready names socket "${socket}"; the plugin must listen on "${socketPath}" ` +
          `(the path configure gave it)`,
      );
    }
    if (!hooks.some((h) => ROUTER_HOOKS.includes(h))) {
      return this.#protocolError(
        `ready lists only hooks this router never calls (${hooks.join(", ") || "none"}); ` +
          `it calls ${ROUTER_HOOKS.join(" and ")}`,
      );
    }
    if (this.#settled) return;
    this.#settled = true;
    this.#readyResolve(hooks);
  }

  // Before `ready` this fails the start; after, the supervisor sees the exit and restarts it.
  #protocolError(message: string): void {
    this.#o.logger.error("plugin protocol error; stopping its process", {
      error: message,
      pid: this.pid,
    });
    this.#fail(message);
    this.kill("SIGKILL");
  }

  #fail(message: string): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#readyReject(new PluginError(this.#o.name, "load", message));
  }

  #stderr(line: string): void {
    this.#tail.push(line);
    if (this.#tail.length > STDERR_TAIL) this.#tail.shift();
    this.#o.log.write(1, "stderr", line);
  }
}

function settledWithin(p: Promise<unknown>, ms: number, watchdog: Watchdog): Promise<void> {
  return new Promise((resolve) => {
    const alarm = watchdog.arm(ms, resolve);
    const done = () => {
      alarm.clear();
      resolve();
    };
    p.then(done, done);
  });
}

function describe(status: Deno.CommandStatus): string {
  return status.signal ? `signal ${status.signal}` : `code ${status.code}`;
}

// A plugin process must not outlive the router: on a normal exit, kill what is still running
// (an abrupt kill of the router is covered by the launcher's process group).
function trackLive(child: Deno.ChildProcess): void {
  live.add(child);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  globalThis.addEventListener("unload", () => {
    for (const c of live) {
      try {
        c.kill("SIGKILL");
      } catch {
        // Already exited.
      }
    }
  });
}
