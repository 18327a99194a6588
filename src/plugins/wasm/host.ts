/**
 * The router-side half of a WASM plugin: a pool of sandboxed workers, each holding one
 * instance, and a circuit breaker. Plugin code never runs on this thread.
 *
 * Deadlines, all alarms of one {@link Watchdog}: each call fails as `timeout` at its deadline;
 * the worker running it is then *stopped* (its instance's deadline flag is raised, and the
 * checks the rewriter injected trap inside the module at the next function entry, loop header
 * or bulk operation); a worker still silent a grace period later is *abandoned*: terminated
 * (which cannot interrupt a thread inside wasm, hence the flag) and replaced, and counted. A
 * plugin that has had {@link HostOptions.maxAbandoned} workers abandoned is switched off until
 * the next reload: every abandoned worker may be a thread still burning a core.
 *
 * Calls travel through each worker's {@link CallChannel} (shared memory + Atomics, see
 * `channel.ts`); messages carry only the rare events (instance started, log lines). A call goes
 * to the ready worker with the fewest calls queued (up to the channel's ring size each, so one
 * wake-up serves a batch under load), else waits here. A worker that runs dry takes back calls
 * another has queued but not started, so a call is not held up behind a slow one while a worker
 * is free.
 */

import type { Logger } from "../../observability/mod.ts";
import { Backoff } from "../../timing/mod.ts";
import { type CallOptions, PluginError, type PluginTransport } from "../transport.ts";
import { type BreakerOptions, CircuitBreaker } from "./breaker.ts";
import { type Alarm, timerClock, Watchdog } from "../watchdog.ts";
import { type Answer, CallChannel, RING_SIZE } from "./channel.ts";
import { PluginLog } from "./plugin_log.ts";
import type { FromWorker, ToWorker } from "./protocol.ts";
import { wallNow } from "./wasi.ts";

/** Settings of one plugin's worker pool. */
export interface HostOptions {
  readonly name: string;
  /** The rewritten (instrumented, memory-capped) module. */
  readonly module: WebAssembly.Module;
  /** `wasm.config` as JSON bytes. */
  readonly config: Uint8Array;
  /** Workers (= concurrent calls) for this plugin. */
  readonly instances: number;
  /** Budget for start function + `_initialize` + `init` of one instance, ms. */
  readonly initTimeoutMs: number;
  /** How long after a deadline a silent worker is abandoned (terminated and replaced), ms. */
  readonly terminateGraceMs: number;
  /** Abandoned workers after which the plugin is switched off until reload (default 4). */
  readonly maxAbandoned?: number;
  readonly logger: Logger;
  readonly breaker: BreakerOptions;
  /** The worker script (default `worker.ts` beside this file); tests substitute their own. */
  readonly workerUrl?: URL;
}

/**
 * Workers poll this long for their next request before sleeping (see `ToWorker.spinUs`), but only
 * when the machine has a core to spare for it (more cores than workers): otherwise a polling
 * worker takes the core the router's thread or another worker needs, and the benchmark showed
 * throughput under load falling (C example, 2 cores, 2 workers: 86k → 53k calls/s).
 */
const SPIN_US = 150;
/**
 * Time a new worker gets to boot (its thread, its script) on top of its instance's
 * initialisation, ms — as `CHILD_BOOT_MS` for a plugin's child process. Measured: a CPU-starved
 * 2-core host used up a 5 s budget booting workers, failing a load that was fine.
 */
const WORKER_BOOT_MS = 10_000;
const WORKER_URL = new URL("./worker.ts", import.meta.url);

/** Default of {@link HostOptions.maxAbandoned}. */
export const MAX_ABANDONED_WORKERS = 4;

interface Pending {
  readonly request: Uint8Array;
  readonly deadline: number;
  readonly timeoutMs: number;
  readonly resolve: (bytes: Uint8Array) => void;
  readonly reject: (e: PluginError) => void;
  /** Whether its outcome counts for the breaker (not for an explain's call). */
  readonly observed: boolean;
  settled: boolean;
  /** Fails the call at its deadline. */
  expiry: Alarm | null;
}

type SlotState = "starting" | "ready" | "dead";

/** A request on a worker's channel; `p` is null once it was taken back (or expired). */
interface Posted {
  readonly seq: number;
  p: Pending | null;
}

interface Slot {
  readonly worker: Worker;
  readonly channel: CallChannel;
  /** Requests on the channel whose answers are not read yet, oldest first. */
  readonly posted: Posted[];
  /** Whether a wait for the channel's next answer is armed. */
  waiting: boolean;
  /** Runs when that wait ends, made once (it runs after every batch of answers). */
  readonly onWake: () => void;
  /** Log messages handled from this worker (see `CallChannel.logsBeforeAnswer`). */
  logs: number;
  state: SlotState;
  /** The running instance's deadline flag (see `rewriter.ts`). */
  flag: Int32Array | null;
  /** Whether the flag was raised for the running instance (it is being replaced). */
  flagRaised: boolean;
  /** Raises the flag at the deadline of the instance's initialisation. */
  stopAlarm: Alarm | null;
  /** Abandons the worker if it stays silent past its deadline plus the grace. */
  abandonAlarm: Alarm | null;
}

/** See the module comment. */
export class WasmHost implements PluginTransport {
  readonly name: string;
  readonly #o: HostOptions;
  readonly #log: Logger;
  // The plugin's own lines: one rate limit for all its workers and instances, ever.
  readonly #pluginLog: PluginLog;
  readonly #breaker: CircuitBreaker;
  readonly #slots = new Set<Slot>();
  readonly #queue: Pending[] = [];
  #closed = false;
  // Initialisation failures since an instance was last ready: the respawn back-off. The first
  // failure waits 200 ms, doubling up to 30 s; a replacement with no such failure is at once.
  readonly #initBackoff = new Backoff({ initialMs: 200, maxMs: 30_000 });
  #abandoned = 0;
  #switchedOff = false;
  readonly #maxAbandoned: number;
  readonly #offMessage: string;
  #respawnTimer: ReturnType<typeof setTimeout> | undefined;
  // Every deadline of this plugin, in `wallNow` time (the workers' clock).
  readonly #watchdog = new Watchdog(timerClock(wallNow));
  #startWaiters: { resolve: () => void; reject: (e: Error) => void } | null = null;

  constructor(options: HostOptions) {
    this.name = options.name;
    this.#o = options;
    this.#log = options.logger.with({ plugin: options.name });
    this.#pluginLog = new PluginLog(this.#log);
    this.#breaker = new CircuitBreaker(options.breaker);
    this.#maxAbandoned = options.maxAbandoned ?? MAX_ABANDONED_WORKERS;
    this.#offMessage = `switched off after ${this.#maxAbandoned} abandoned workers; ` +
      "reload the config to restart it";
  }

  /**
   * Whether calls are skipped: the circuit breaker open (or half-open awaiting a trial), no
   * live worker while restarts back off, or the plugin switched off.
   */
  get circuitOpen(): boolean {
    if (this.#closed) return false;
    return this.#switchedOff || this.#down() || this.#breaker.state !== "closed";
  }

  /** Workers abandoned so far (silent past a deadline plus the grace). */
  get abandonedWorkers(): number {
    return this.#abandoned;
  }

  /** Starts every worker; rejects with the first instance's initialisation failure. */
  start(): Promise<void> {
    const started = new Promise<void>((resolve, reject) => {
      this.#startWaiters = { resolve, reject };
    });
    this.#fillPool();
    return started;
  }

  call(request: Uint8Array, timeoutMs: number, options?: CallOptions): Promise<Uint8Array> {
    const observed = options?.observed ?? true;
    if (this.#closed) return Promise.reject(this.#error("unavailable", "plugin is closed"));
    if (this.#switchedOff) return Promise.reject(this.#error("unavailable", this.#offMessage));
    if (this.#down()) {
      return Promise.reject(
        this.#error("unavailable", "no live worker (restarting after failures)"),
      );
    }
    if (!this.#breaker.admit(observed)) {
      return Promise.reject(
        this.#error("unavailable", "skipped: circuit open after repeated failures"),
      );
    }
    return new Promise((resolve, reject) => {
      const p: Pending = {
        request,
        deadline: wallNow() + timeoutMs,
        timeoutMs,
        resolve,
        reject,
        observed,
        settled: false,
        expiry: null,
      };
      p.expiry = this.#watchdog.armAt(p.deadline, () => this.#onDeadline(p));
      const slot = this.#pickSlot();
      if (slot) this.#dispatch(slot, p);
      else this.#queue.push(p);
    });
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    clearTimeout(this.#respawnTimer);
    for (const slot of this.#slots) this.#kill(slot, "plugin closed");
    for (const p of this.#queue.splice(0)) this.#settle(p, this.#error("unavailable", "closed"));
    this.#startWaiters?.reject(this.#error("load", "plugin closed while starting"));
    this.#startWaiters = null;
    this.#watchdog.close();
    return Promise.resolve();
  }

  // The ready worker with the fewest requests on its channel and room for one more.
  #pickSlot(): Slot | null {
    let best: Slot | null = null;
    for (const slot of this.#slots) {
      if (slot.state !== "ready" || slot.posted.length >= RING_SIZE) continue;
      if (slot.posted.length === 0) return slot;
      if (best === null || slot.posted.length < best.posted.length) best = slot;
    }
    return best;
  }

  #dispatch(slot: Slot, p: Pending): void {
    let seq: number;
    try {
      seq = slot.channel.post(p.request, p.deadline);
    } catch (e) {
      // Only an oversized request gets here; the worker never saw it.
      this.#settle(p, this.#error("unavailable", (e as Error).message));
      return;
    }
    slot.posted.push({ seq, p });
    if (!slot.waiting) this.#awaitAnswer(slot);
  }

  // Runs `slot.onWake` once the worker has published an answer not read yet. (If it already
  // has, in a microtask: answering synchronously here would recurse through the queue.)
  #awaitAnswer(slot: Slot): void {
    slot.waiting = true;
    const wait = slot.channel.whenAnswered();
    if (wait === null) queueMicrotask(slot.onWake);
    else void wait.then(slot.onWake);
  }

  // Takes every answer that is in off the channel. Runs on every wake-up of the channel, and
  // before any worker message, since a worker posts `instance`/`ready` right after answering
  // the call that killed its instance and the two may be seen in either order.
  #collect(slot: Slot): void {
    while (slot.state !== "dead" && slot.channel.hasAnswer()) {
      // Its log lines first; the last of them to arrive collects the answer.
      if (slot.channel.logsBeforeAnswer() > slot.logs) return;
      const answer = slot.channel.takeAnswer();
      this.#onAnswer(slot, slot.posted.shift()?.p ?? null, answer);
    }
    if (slot.state === "dead") return;
    if (slot.posted.length > 0 && !slot.waiting) this.#awaitAnswer(slot);
    this.#pump(slot);
    if (slot.posted.length === 0 && slot.state === "ready") this.#steal(slot);
  }

  #pump(slot: Slot): void {
    while (slot.state === "ready" && slot.posted.length < RING_SIZE) {
      const next = this.#queue.shift();
      if (!next) return;
      if (!next.settled) this.#dispatch(slot, next);
    }
  }

  // An idle worker takes back up to half of the not yet started requests of the busiest one.
  #steal(thief: Slot): void {
    let victim: Slot | null = null;
    for (const slot of this.#slots) {
      if (slot.posted.length > (victim?.posted.length ?? 1)) victim = slot;
    }
    if (victim === null) return;
    for (let n = victim.posted.length >> 1; n > 0; n--) {
      const last = victim.posted.findLast((e) => e.p !== null);
      if (!last || !victim.channel.cancel(last.seq)) return;
      const p = last.p!;
      last.p = null;
      this.#dispatch(thief, p);
    }
  }

  #spawn(): void {
    const worker = new Worker(this.#o.workerUrl ?? WORKER_URL, {
      type: "module",
      deno: { permissions: "none" },
    });
    const slot: Slot = {
      worker,
      channel: new CallChannel(),
      posted: [],
      waiting: false,
      onWake: () => {
        slot.waiting = false;
        this.#collect(slot);
      },
      logs: 0,
      state: "starting",
      flag: null,
      flagRaised: false,
      stopAlarm: null,
      abandonAlarm: null,
    };
    this.#slots.add(slot);
    worker.onmessage = (e: MessageEvent<FromWorker>) => this.#onMessage(slot, e.data);
    worker.onerror = (e) => {
      e.preventDefault();
      // A worker that fails before it is ready (its script cannot even load, say) counts as
      // an initialisation failure, so replacing it backs off instead of looping at once.
      const beforeReady = slot.state === "starting";
      // While the plugin is still loading, the failure fails the load (naming the reason)
      // instead of retrying forever: a load that never settles would hang start and reload.
      if (beforeReady && this.#startWaiters) {
        return this.#onInitFailed(slot, `worker failed: ${e.message}`);
      }
      this.#log.error("plugin worker failed", { reason: e.message });
      this.#kill(slot, `worker failed: ${e.message}`);
      this.#replace(beforeReady);
    };
    // The worker times its instance's initialisation itself (from when it starts, stopping a
    // runaway `_initialize` at the deadline); this backstop also covers booting the worker,
    // which on a loaded host alone can take seconds.
    this.#armAbandon(slot, wallNow() + WORKER_BOOT_MS + this.#o.initTimeoutMs);
    const init: ToWorker = {
      t: "init",
      module: this.#o.module,
      config: this.#o.config,
      initTimeoutMs: this.#o.initTimeoutMs,
      spinUs: navigator.hardwareConcurrency > this.#o.instances ? SPIN_US : 0,
      channel: slot.channel.buffers,
    };
    worker.postMessage(init);
  }

  #onMessage(slot: Slot, msg: FromWorker): void {
    if (msg.t === "log") {
      slot.logs++;
      if (slot.state === "dead") return;
      this.#pluginLog.write(msg.level, msg.source, msg.text);
      return this.#collect(slot);
    }
    this.#collect(slot);
    if (slot.state === "dead") return;
    switch (msg.t) {
      case "instance":
        slot.flag = new Int32Array(msg.flag, 0, 1);
        slot.flagRaised = false;
        slot.stopAlarm?.clear();
        slot.stopAlarm = this.#watchdog.armAt(msg.deadline, () => this.#stopInstance(slot));
        this.#armAbandon(slot, msg.deadline);
        return;
      case "ready":
        this.#clearAlarms(slot);
        this.#initBackoff.reset();
        slot.state = "ready";
        if (this.#startWaiters && this.#allReady()) {
          this.#startWaiters.resolve();
          this.#startWaiters = null;
        }
        this.#pump(slot);
        return;
      case "init_failed":
        return this.#onInitFailed(slot, msg.message);
    }
  }

  #onAnswer(slot: Slot, p: Pending | null, answer: Answer): void {
    if (p && !p.settled) this.#settle(p, this.#outcome(p, answer));
    if ((!answer.ok && answer.kind !== "skipped") || slot.flagRaised) {
      // The worker is replacing its instance; guard that like a first start.
      slot.flagRaised = false;
      slot.state = "starting";
      this.#armAbandon(slot, wallNow() + this.#o.initTimeoutMs);
    } else if (slot.state === "ready") {
      // It answers, so it is responsive.
      this.#clearAlarms(slot);
    }
  }

  // An answer read after the call's deadline is a timeout, whichever of the answer and the
  // watchdog's alarm this thread saw first: a timer fires a little after its time, and a module
  // whose WASI sleep was cut at the deadline answers right at it.
  #outcome(p: Pending, answer: Answer): Uint8Array | PluginError {
    const late = wallNow() >= p.deadline;
    if (answer.ok && !late) return answer.response;
    if (answer.ok || answer.kind === "skipped") {
      return this.#error("timeout", `no answer within ${p.timeoutMs} ms`);
    }
    return this.#error(answer.kind, answer.message);
  }

  #onInitFailed(slot: Slot, message: string): void {
    this.#kill(slot, message);
    if (this.#startWaiters) {
      this.#startWaiters.reject(this.#error("load", message));
      this.#startWaiters = null;
      return;
    }
    this.#log.error("plugin instance failed to initialise", { reason: message });
    this.#replace(true);
  }

  #onDeadline(p: Pending): void {
    if (p.settled) return;
    this.#settle(p, this.#error("timeout", `no answer within ${p.timeoutMs} ms`));
    const queued = this.#queue.indexOf(p);
    if (queued >= 0) return void this.#queue.splice(queued, 1);
    for (const slot of this.#slots) {
      const entry = slot.posted.find((e) => e.p === p);
      if (!entry) continue;
      entry.p = null;
      // Not started: the worker will skip it. Started: unless it has been answered (an answer
      // may be published but held back until the plugin's log lines arrive), stop the
      // instance. (Should the worker finish it between this check and the flag, the flag stops
      // the next call instead: a window of a few instructions.)
      if (slot.channel.cancel(entry.seq)) return;
      this.#collect(slot);
      if (slot.posted.includes(entry) && !slot.channel.isAnswered(entry.seq)) {
        this.#stopInstance(slot);
      }
      return;
    }
  }

  // Raises the running instance's deadline flag: the module traps at its next check, and the
  // worker replaces the instance. Should it stay silent, the abandon alarm follows.
  #stopInstance(slot: Slot): void {
    slot.flagRaised = true;
    if (slot.flag) {
      Atomics.store(slot.flag, 0, 1);
      Atomics.notify(slot.flag, 0); // wakes a poll_oneoff sleep
    }
    slot.channel.nudge(); // a worker already idle replaces the stopped instance at once
    this.#armAbandon(slot, wallNow());
  }

  // A worker that does not answer by `deadline` + grace is abandoned.
  #armAbandon(slot: Slot, deadline: number): void {
    slot.abandonAlarm?.clear();
    slot.abandonAlarm = this.#watchdog.armAt(
      deadline + this.#o.terminateGraceMs,
      () => this.#abandon(slot),
    );
  }

  // Terminates a silent worker and replaces it — unless too many have been abandoned: each may
  // be a thread that termination could not stop, so the plugin is then switched off.
  #abandon(slot: Slot): void {
    this.#abandoned++;
    this.#log.error("plugin worker unresponsive past its deadline; abandoning it", {
      abandoned: this.#abandoned,
      limit: this.#maxAbandoned,
    });
    if (this.#startWaiters) {
      this.#startWaiters.reject(this.#error("load", "initialisation did not finish in time"));
      this.#startWaiters = null;
    }
    this.#kill(slot, "worker unresponsive past its deadline", "timeout");
    if (this.#abandoned < this.#maxAbandoned) return this.#replace(false);
    this.#switchedOff = true;
    this.#log.error(`plugin ${this.#offMessage}`);
    for (const other of [...this.#slots]) this.#kill(other, this.#offMessage);
    for (const p of this.#queue.splice(0)) {
      this.#settle(p, this.#error("unavailable", this.#offMessage));
    }
  }

  #clearAlarms(slot: Slot): void {
    slot.stopAlarm?.clear();
    slot.abandonAlarm?.clear();
    slot.stopAlarm = slot.abandonAlarm = null;
  }

  // Ends a worker. Requests it has not started go back to the queue; started ones fail as
  // `failAs` (`unavailable`, or `timeout` when the worker was abandoned at a deadline).
  #kill(slot: Slot, reason: string, failAs: PluginError["kind"] = "unavailable"): void {
    if (slot.state === "dead") return;
    this.#clearAlarms(slot);
    slot.state = "dead";
    if (slot.flag) Atomics.store(slot.flag, 0, 1);
    const requeue: Pending[] = [];
    for (const { seq, p } of slot.posted) {
      if (p === null || p.settled) continue;
      if (slot.channel.cancel(seq)) requeue.push(p);
      else this.#settle(p, this.#error(failAs, reason));
    }
    slot.posted.length = 0;
    // Asks a worker blocked between calls to exit, in case termination cannot reach it.
    slot.channel.stop();
    slot.worker.terminate();
    this.#slots.delete(slot);
    if (this.#switchedOff) {
      for (const p of requeue) this.#settle(p, this.#error("unavailable", this.#offMessage));
      return;
    }
    this.#queue.unshift(...requeue);
    for (const other of this.#slots) this.#pump(other);
  }

  // Keeps the pool at its size; repeated initialisation failures back off (up to 30 s).
  #replace(initFailure: boolean): void {
    if (this.#closed || this.#switchedOff || this.#respawnTimer !== undefined) return;
    const delay = initFailure ? this.#initBackoff.fail() : this.#initBackoff.delay();
    if (this.#down()) {
      // Nothing can serve the queued calls before the back-off ends: fail them now.
      const error = this.#error("unavailable", "no live worker (restarting after failures)");
      for (const p of this.#queue.splice(0)) this.#settle(p, error);
    }
    this.#respawnTimer = setTimeout(() => {
      this.#respawnTimer = undefined;
      this.#fillPool();
    }, delay);
  }

  // Starts workers until the pool is full, one per turn of the event loop: `new Worker` blocks
  // this thread until the worker's runtime exists (15–55 ms each on a 2-core VM), and
  // connections must be served in between.
  #fillPool(): void {
    if (this.#closed || this.#switchedOff || this.#slots.size >= this.#o.instances) return;
    this.#spawn();
    if (this.#slots.size < this.#o.instances) setTimeout(() => this.#fillPool(), 0);
  }

  // No worker left and replacements backing off after initialisation failures.
  #down(): boolean {
    return this.#slots.size === 0 && this.#initBackoff.failures > 0;
  }

  #allReady(): boolean {
    for (const slot of this.#slots) if (slot.state !== "ready") return false;
    return this.#slots.size === this.#o.instances;
  }

  #settle(p: Pending, outcome: Uint8Array | PluginError): void {
    if (p.settled) return;
    p.settled = true;
    p.expiry?.clear();
    if (p.observed) this.#breaker.record(!(outcome instanceof PluginError));
    if (outcome instanceof PluginError) p.reject(outcome);
    else p.resolve(outcome);
  }

  #error(kind: PluginError["kind"], message: string): PluginError {
    return new PluginError(this.name, kind, message);
  }
}
