/**
 * The router side of `wasm.isolation: process`: the plugin's instances run in a child Deno
 * process (`process_child.ts`: the usual worker host, inside a process with no permissions and
 * a capped V8 heap), reached over framed stdin/stdout (`process_frames.ts`).
 *
 * Why a process: a Deno worker cannot be killed while it runs wasm, so a call that escapes the
 * injected deadline checks can keep a router thread busy for good; a process can be SIGKILLed.
 *
 * Deadlines are kept here, whatever the child says: a call fails as `timeout` at its deadline;
 * if the child has still not answered it a grace period later, the child is *abandoned*:
 * SIGKILLed (its other calls fail as `timeout`), counted in {@link ProcessHost.abandonedWorkers}
 * and restarted with back-off. The child's own host stops ordinary runaway calls with the
 * deadline flag and answers them `timeout` itself; should it have to give up a worker, the child
 * reports that and is abandoned the same way. A child that exits on its own (a V8 heap past the
 * cap ends it) fails its calls in flight as `trap` and is restarted with back-off. While no child
 * is ready, calls fail at once as `unavailable`. Every frame from the child is untrusted: one
 * that is oversized or malformed counts as the child failing (killed and restarted).
 */

import type { Logger } from "../../observability/mod.ts";
import { Backoff } from "../../timing/mod.ts";
import { type CallOptions, PluginError, type PluginTransport } from "../transport.ts";
import { type Alarm, Watchdog } from "../watchdog.ts";
import { type BreakerOptions, CircuitBreaker } from "./breaker.ts";
import { MAX_MESSAGE_BYTES } from "./channel.ts";
import { PluginLog } from "./plugin_log.ts";
import { childArgs } from "./process_command.ts";
import {
  CHILD_EXIT,
  type ChildInit,
  type Frame,
  FrameReader,
  FrameWriter,
} from "./process_frames.ts";

/** Settings of one plugin's child process. */
export interface ProcessHostOptions {
  readonly name: string;
  /** The module file's bytes (the child checks, rewrites and compiles them). */
  readonly module: Uint8Array;
  /** `prepareModule`'s options for the child (`max_memory` also sizes its heap cap). */
  readonly prepare: ChildInit["prepare"];
  /** `wasm.config` as JSON text. */
  readonly config: string;
  /** Instances (workers in the child) = calls that run at once. */
  readonly instances: number;
  /** Budget for initialising one instance, ms. */
  readonly initTimeoutMs: number;
  /** How long past a deadline an unanswered call gets before the child is killed, ms. */
  readonly terminateGraceMs: number;
  readonly logger: Logger;
  readonly breaker: BreakerOptions;
  /** Test seam: the worker script the child's host starts. */
  readonly workerUrl?: URL;
  /** Test seam: a different child script speaking the same frames. */
  readonly childUrl?: URL;
}

/** Time a child gets to boot (Deno, its code) on top of its instances' initialisation, ms. */
export const CHILD_BOOT_MS = 10_000;
/** Restart delays: 100 ms doubling with each failure up to 30 s (docs/plugins.md §5.6). */
const RESTART_BACKOFF = { initialMs: 100, maxMs: 30_000 };
const STDERR_LINES = 50;
const STDERR_LINE_CHARS = 1024;
// A stderr line that says why a process ended (Deno's `error: …`, V8's fatal out-of-memory).
const TELLING = /\b(error|fatal|panic|out of memory)\b/i;

interface Call {
  readonly id: number;
  readonly timeoutMs: number;
  readonly resolve: (bytes: Uint8Array) => void;
  readonly reject: (e: PluginError) => void;
  /** Whether its outcome counts for the breaker (not for an explain's call). */
  readonly observed: boolean;
  settled: boolean;
  alarm: Alarm | null;
}

interface Child {
  readonly proc: Deno.ChildProcess;
  readonly out: FrameWriter;
  /** Calls sent and not answered, settled (past their deadline) or not. */
  readonly calls: Map<number, Call>;
  state: "starting" | "ready" | "dead";
  bootAlarm: Alarm | null;
  /** Its first stderr line naming an error (else its first line), for the exit message. */
  stderrSummary: string | null;
  stderrTelling: boolean;
  stderrLines: number;
  /** Settles once the process is reaped and its pipes are drained. */
  done: Promise<unknown>;
}

// A function, not an inline comparison: TypeScript would keep a narrowed `state` across calls
// that change it.
function isDead(child: Child): boolean {
  return child.state === "dead";
}

/** See the module comment. */
export class ProcessHost implements PluginTransport {
  readonly name: string;
  readonly #o: ProcessHostOptions;
  readonly #log: Logger;
  readonly #breaker: CircuitBreaker;
  // The child's lines, its host's notes included: rate-limited here too, as it is untrusted.
  readonly #pluginLog: PluginLog;
  readonly #watchdog = new Watchdog();
  #child: Child | null = null;
  #closed = false;
  #nextId = 0;
  #abandoned = 0;
  #restarts = 0;
  // Child failures since a call last succeeded: the restart back-off.
  readonly #backoff = new Backoff(RESTART_BACKOFF);
  #restartTimer: ReturnType<typeof setTimeout> | undefined;
  #startWaiter: { resolve: () => void; reject: (e: PluginError) => void } | null = null;

  constructor(options: ProcessHostOptions) {
    this.name = options.name;
    this.#o = options;
    this.#log = options.logger.with({ plugin: options.name, isolation: "process" });
    this.#breaker = new CircuitBreaker(options.breaker);
    this.#pluginLog = new PluginLog(this.#log);
  }

  /**
   * Whether calls are skipped: the circuit breaker open (or half-open awaiting a trial), or no
   * child ready (restarting).
   */
  get circuitOpen(): boolean {
    if (this.#closed || this.#startWaiter !== null) return false;
    return this.#child?.state !== "ready" || this.#breaker.state !== "closed";
  }

  /** Children started again after one ended (exited, killed, or failed to start). */
  get restarts(): number {
    return this.#restarts;
  }

  /** Child processes killed because a call went unanswered past its deadline plus the grace. */
  get abandonedWorkers(): number {
    return this.#abandoned;
  }

  /** The running child's process id, or null while there is none (diagnostics, tests). */
  get pid(): number | null {
    return this.#child?.proc.pid ?? null;
  }

  /** Starts the child; resolves once its instances are ready, else rejects (kind `load`). */
  start(): Promise<void> {
    const started = new Promise<void>((resolve, reject) => {
      this.#startWaiter = { resolve, reject };
    });
    try {
      this.#child = this.#spawn();
    } catch (e) {
      this.#startWaiter = null;
      return Promise.reject(e);
    }
    return started;
  }

  call(request: Uint8Array, timeoutMs: number, options?: CallOptions): Promise<Uint8Array> {
    const observed = options?.observed ?? true;
    const child = this.#child;
    if (this.#closed) return Promise.reject(this.#error("unavailable", "plugin is closed"));
    if (child?.state !== "ready") {
      return Promise.reject(this.#error("unavailable", "plugin process is restarting"));
    }
    if (!this.#breaker.admit(observed)) {
      return Promise.reject(
        this.#error("unavailable", "skipped: circuit open after repeated failures"),
      );
    }
    if (request.length > MAX_MESSAGE_BYTES) {
      if (observed) this.#breaker.record(false);
      return Promise.reject(
        this.#error(
          "unavailable",
          `request of ${request.length} bytes exceeds ${MAX_MESSAGE_BYTES}`,
        ),
      );
    }
    return new Promise((resolve, reject) => {
      this.#nextId = (this.#nextId + 1) >>> 0;
      const call: Call = {
        id: this.#nextId,
        timeoutMs,
        resolve,
        reject,
        observed,
        settled: false,
        alarm: null,
      };
      call.alarm = this.#watchdog.arm(timeoutMs, () => this.#onDeadline(child, call));
      child.calls.set(call.id, call);
      child.out.send({ t: "call", id: call.id, timeoutMs, request });
    });
  }

  /** Kills the child (SIGKILL) and resolves once it is gone. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#restartTimer);
    this.#startWaiter?.reject(this.#error("load", "plugin closed while starting"));
    this.#startWaiter = null;
    const child = this.#child;
    if (child) this.#kill(child, "unavailable", "plugin closed");
    this.#watchdog.close();
    await child?.done;
  }

  #spawn(): Child {
    let proc: Deno.ChildProcess;
    try {
      proc = this.#command().spawn();
    } catch (e) {
      return this.#unspawned(e);
    }
    const child: Child = {
      proc,
      out: new FrameWriter(proc.stdin, () => {}), // a failed write: the exit handler follows
      calls: new Map(),
      state: "starting",
      bootAlarm: null,
      stderrSummary: null,
      stderrTelling: false,
      stderrLines: 0,
      done: Promise.resolve(),
    };
    const bootMs = CHILD_BOOT_MS + this.#o.initTimeoutMs;
    child.bootAlarm = this.#watchdog.arm(bootMs, () => {
      this.#fail(child, `plugin process did not start within ${bootMs} ms`);
    });
    child.done = Promise.all([
      this.#readFrames(child),
      this.#readStderr(child),
      proc.status.then((status) => this.#onExit(child, status)),
    ]);
    child.out.send({ t: "init", init: this.#init(), module: this.#o.module });
    return child;
  }

  #command(): Deno.Command {
    return new Deno.Command(Deno.execPath(), {
      args: childArgs({
        name: this.#o.name,
        maxMemoryBytes: this.#o.prepare.maxMemoryBytes,
        ...(this.#o.workerUrl ? { workerUrl: this.#o.workerUrl } : {}),
        ...(this.#o.childUrl ? { childUrl: this.#o.childUrl } : {}),
      }),
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      // Nothing of the router's environment (it has no --allow-env anyway); NO_COLOR: Deno
      // colours its error output otherwise, and the escapes would only clutter the log.
      clearEnv: true,
      env: { NO_COLOR: "1" },
    });
  }

  #init(): ChildInit {
    return {
      name: this.#o.name,
      prepare: this.#o.prepare,
      config: this.#o.config,
      instances: this.#o.instances,
      initTimeoutMs: this.#o.initTimeoutMs,
      terminateGraceMs: this.#o.terminateGraceMs,
      ...(this.#o.workerUrl ? { workerUrl: this.#o.workerUrl.href } : {}),
    };
  }

  // Spawning itself failed (no run permission, say): fails the load, or backs off a restart.
  #unspawned(e: unknown): never {
    if (e instanceof PluginError) throw e; // from childArgs: already says what is wrong
    const denied = e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied;
    const message = denied
      ? `cannot start the plugin process: ${(e as Error).message} (wasm.isolation: process ` +
        "needs run permission on the deno executable; `start` grants it when a plugin uses it)"
      : `cannot start the plugin process: ${String(e)}`;
    throw this.#error("load", message);
  }

  async #readFrames(child: Child): Promise<void> {
    const reader = new FrameReader();
    try {
      // Once the child is dead (killed by a frame or from outside) the rest is not read.
      for await (const chunk of child.proc.stdout) {
        if (isDead(child)) return;
        reader.push(chunk);
        for (let f = reader.next(); f !== null && !isDead(child); f = reader.next()) {
          this.#onFrame(child, f);
        }
      }
    } catch (e) {
      this.#fail(child, `plugin process sent a bad frame: ${(e as Error).message}`);
    }
  }

  #onFrame(child: Child, f: Frame): void {
    switch (f.t) {
      case "answer":
        return this.#onAnswer(child, f);
      case "log":
        return this.#pluginLog.write(f.level, f.source, f.text);
      case "ready":
        if (child.state !== "starting") return this.#fail(child, "plugin process said ready twice");
        return this.#onReady(child);
      case "init_failed":
        if (child.state !== "starting") return this.#fail(child, "unexpected init_failed frame");
        return this.#onInitFailed(child, f.message);
      case "abandoned":
        return this.#abandon(child, "its host gave up a worker unresponsive past a deadline");
      default:
        return this.#fail(child, `plugin process sent a ${f.t} frame`);
    }
  }

  #onReady(child: Child): void {
    child.state = "ready";
    child.bootAlarm?.clear();
    if (this.#startWaiter) {
      this.#startWaiter.resolve();
      this.#startWaiter = null;
    } else {
      this.#log.info("plugin process restarted", { pid: child.proc.pid });
    }
  }

  #onInitFailed(child: Child, message: string): void {
    this.#kill(child, "unavailable", message);
    if (this.#startWaiter) {
      this.#startWaiter.reject(this.#error("load", message));
      this.#startWaiter = null;
      return;
    }
    this.#log.error("plugin process failed to initialise", { reason: message });
    this.#restart();
  }

  #onAnswer(child: Child, f: Extract<Frame, { t: "answer" }>): void {
    const call = child.calls.get(f.id);
    if (!call) return this.#fail(child, `plugin process answered unknown call ${f.id}`);
    child.calls.delete(f.id);
    call.alarm?.clear();
    if (f.kind === "ok") {
      this.#backoff.reset();
      return this.#settle(call, f.body);
    }
    const message = new TextDecoder().decode(f.body.subarray(0, 4096));
    this.#settle(call, this.#error(f.kind, message));
  }

  // At the deadline the call fails; the child then has the grace period to answer it.
  #onDeadline(child: Child, call: Call): void {
    this.#settle(call, this.#error("timeout", `no answer within ${call.timeoutMs} ms`));
    call.alarm = this.#watchdog.arm(this.#o.terminateGraceMs, () => {
      this.#abandon(child, `a call unanswered ${this.#o.terminateGraceMs} ms past its deadline`);
    });
  }

  #abandon(child: Child, reason: string): void {
    if (child.state === "dead") return;
    this.#abandoned++;
    this.#log.error("plugin process unresponsive; killed it", {
      reason,
      pid: child.proc.pid,
      abandoned: this.#abandoned,
    });
    this.#kill(child, "timeout", "plugin process unresponsive past a deadline; killed");
    this.#restart();
  }

  // The child broke the protocol or did not start in time.
  #fail(child: Child, reason: string): void {
    if (child.state === "dead") return;
    this.#kill(child, "unavailable", reason);
    if (this.#startWaiter) {
      this.#startWaiter.reject(this.#error("load", reason));
      this.#startWaiter = null;
      return;
    }
    this.#log.error("plugin process failed; killed it", { reason, pid: child.proc.pid });
    this.#restart();
  }

  #onExit(child: Child, status: Deno.CommandStatus): void {
    if (child.state === "dead") return;
    const how = status.signal ? `signal ${status.signal}` : `code ${status.code}`;
    if (status.code === CHILD_EXIT.abandoned) {
      return this.#abandon(child, "its host gave up a worker unresponsive past a deadline");
    }
    const stderr = child.stderrSummary === null ? "" : `: ${child.stderrSummary}`;
    const reason = `plugin process exited (${how})${stderr}`;
    this.#kill(child, "trap", reason);
    if (this.#startWaiter) {
      this.#startWaiter.reject(this.#error("load", reason));
      this.#startWaiter = null;
      return;
    }
    this.#log.error("plugin process exited; restarting it", { reason, pid: child.proc.pid });
    this.#restart();
  }

  // Marks the child dead, fails its calls as `failAs` and SIGKILLs it.
  #kill(child: Child, failAs: PluginError["kind"], reason: string): void {
    if (child.state === "dead") return;
    child.state = "dead";
    child.bootAlarm?.clear();
    for (const call of child.calls.values()) {
      call.alarm?.clear();
      this.#settle(call, this.#error(failAs, reason));
    }
    child.calls.clear();
    child.out.close();
    try {
      child.proc.kill("SIGKILL");
    } catch {
      // Already exited.
    }
    if (this.#child === child) this.#child = null;
  }

  // Starts a new child after a back-off that doubles with each failure (100 ms up to 30 s);
  // calls fail at once as `unavailable` meanwhile.
  #restart(): void {
    if (this.#closed || this.#restartTimer !== undefined) return;
    const delay = this.#backoff.fail();
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = undefined;
      if (this.#closed) return;
      this.#restarts++;
      try {
        this.#child = this.#spawn();
      } catch (e) {
        this.#log.error("plugin process cannot be restarted", { reason: String(e) });
        this.#restart();
      }
    }, delay);
  }

  // Its stderr, at warn: escaped by the logger, bounded in line length and count per child.
  async #readStderr(child: Child): Promise<void> {
    let pending = "";
    const decoder = new TextDecoder();
    for await (const chunk of child.proc.stderr) {
      if (child.stderrLines > STDERR_LINES) continue; // drain, but log no more
      pending += decoder.decode(chunk, { stream: true });
      const lines = pending.split("\n");
      pending = lines.pop()!.slice(0, STDERR_LINE_CHARS);
      for (const line of lines) this.#stderrLine(child, line);
    }
    if (pending !== "") this.#stderrLine(child, pending);
  }

  #stderrLine(child: Child, raw: string): void {
    const line = raw.trimEnd().slice(0, STDERR_LINE_CHARS);
    if (line === "" || child.stderrLines > STDERR_LINES) return;
    child.stderrLines++;
    if (child.stderrSummary === null || (!child.stderrTelling && TELLING.test(line))) {
      child.stderrSummary = line.slice(0, 200);
      child.stderrTelling = TELLING.test(line);
    }
    if (child.stderrLines > STDERR_LINES) {
      this.#log.warn("plugin process stderr: further lines dropped", { pid: child.proc.pid });
      return;
    }
    this.#log.warn("plugin process stderr", { text: line, pid: child.proc.pid });
  }

  #settle(call: Call, outcome: Uint8Array | PluginError): void {
    if (call.settled) return;
    call.settled = true;
    if (call.observed) this.#breaker.record(!(outcome instanceof PluginError));
    if (outcome instanceof PluginError) call.reject(outcome);
    else call.resolve(outcome);
  }

  #error(kind: PluginError["kind"], message: string): PluginError {
    return new PluginError(this.name, kind, message);
  }
}
