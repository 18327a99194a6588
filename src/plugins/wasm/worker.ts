/**
 * Entry point of a plugin worker (started with `deno: {permissions: "none"}`). It holds one
 * plugin instance at a time, answers calls in order from its {@link CallChannel} and,
 * whenever the instance dies (trap, deadline, `proc_exit`, bad response), replaces it with a
 * fresh one before serving again.
 *
 * After `init` the worker never returns to its event loop: it polls briefly, then blocks in
 * `Atomics.wait` between calls, which wakes much faster than a message would. Its outgoing messages (`log`,
 * `instance`, `ready`) still flow, and `Worker.terminate()` interrupts the wait.
 */

import { CallChannel } from "./channel.ts";
import { InstanceFailure, PluginInstance } from "./instance.ts";
import { DEFAULT_LOG_BURST, DEFAULT_LOG_LINES_PER_SECOND, TokenBucket } from "./plugin_log.ts";
import type { FromWorker, ToWorker } from "./protocol.ts";
import { wallNow } from "./wasi.ts";

interface WorkerScope {
  postMessage(message: FromWorker): void;
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
  close(): void;
}

// Re-checks for a stop request this often even without a wake-up.
const IDLE_MS = 1000;

const scope = self as unknown as WorkerScope;
let channel: CallChannel | null = null;

// A cheap first filter before the router's per-plugin limit (`PluginLog`): it keeps a module
// that logs in a loop from posting unbounded messages for the router's thread to handle. It
// lives as long as the worker, so an instance that traps and is replaced gets no fresh budget
// (a count per instance did). Twice the router's burst and ten times its rate, so it acts on
// floods only: when it drops a line, the router, seeing the same lines, has dropped some too
// and warned (its count is then a lower bound) — unless the flood was of lines below the log
// level, which the router skips without spending budget; this filter cannot tell those apart.
const logBucket = new TokenBucket(
  10 * DEFAULT_LOG_LINES_PER_SECOND,
  2 * DEFAULT_LOG_BURST,
  performance.now(),
);

function log(level: 0 | 1 | 2 | 3, source: string, text: string): void {
  if (!logBucket.take(performance.now())) return;
  scope.postMessage({ t: "log", level, source, text });
  channel?.countLog();
}

function create(init: ToWorker): PluginInstance | null {
  const deadline = wallNow() + init.initTimeoutMs;
  try {
    const instance = PluginInstance.create(init.module, {
      config: init.config,
      log,
      deadline,
      onFlag: (flag) =>
        scope.postMessage({ t: "instance", flag: flag.buffer as SharedArrayBuffer, deadline }),
    });
    scope.postMessage({ t: "ready" });
    return instance;
  } catch (e) {
    const failure = asFailure(e);
    scope.postMessage({ t: "init_failed", kind: failure.kind, message: failure.message });
    return null;
  }
}

// Runs request `seq` through `instance` and answers it on the channel. A request the router
// took back, or whose deadline has passed (the router has already failed it), is not run.
function answer(channel: CallChannel, seq: number, instance: PluginInstance | null): void {
  if (!channel.claim(seq)) return channel.answerFail(seq, "skipped", "cancelled");
  const deadline = channel.deadline(seq);
  if (wallNow() >= deadline) return channel.answerFail(seq, "skipped", "deadline passed");
  if (instance === null) return channel.answerFail(seq, "trap", "no live instance");
  try {
    instance.callWith(channel.request(seq), deadline, (view) => channel.stage(seq, view));
    channel.answerOk(seq);
  } catch (e) {
    const failure = asFailure(e);
    channel.answerFail(seq, failure.kind, failure.message);
  }
}

function serve(init: ToWorker, channel: CallChannel): void {
  let instance = create(init);
  // The router sends no call before `ready`, so there is nothing to serve without an instance.
  if (instance === null) return;
  // The router may raise the flag just as a call ends (it saw the call unanswered a moment
  // before): the instance is then stopped with no call left to trap in. Replaced while idle —
  // the router nudges the wait — or the router would wait for a `ready` that never comes.
  const renew = () => {
    if (instance !== null && !instance.alive) instance = create(init);
  };
  const poller = new Poller(init.spinUs);
  let seq = 0;
  for (;;) {
    if (!poller.poll(channel, seq)) {
      if (!channel.waitRequest(seq, IDLE_MS, renew)) return scope.close();
      if (instance === null) return;
      poller.woken();
    }
    // Serves every request already queued before waiting again.
    do {
      answer(channel, seq, instance);
      seq = (seq + 1) | 0;
      if (!instance.alive) {
        instance = create(init);
        if (instance === null) return;
      }
    } while (channel.hasRequest(seq));
  }
}

/**
 * Polls for the next request before the worker sleeps (see `ToWorker.spinUs`) — only while
 * calls are frequent (the previous one came within the window) and the worker has a core to
 * itself: a poll that finds itself descheduled (a gap between two checks far longer than a
 * check) means the machine is short of cores, and polling then would take the router thread's
 * core, so the worker stops polling for a while.
 */
class Poller {
  readonly #windowMs: number;
  #armed = false;
  #idleSince = 0;
  #pausedUntil = 0;

  constructor(spinUs: number) {
    this.#windowMs = spinUs / 1000;
  }

  /** Polls for request `seq` if armed; true once it is there (false: go to sleep). */
  poll(channel: CallChannel, seq: number): boolean {
    const start = this.#idleSince = performance.now();
    if (!this.#armed || start < this.#pausedUntil) return false;
    const until = start + this.#windowMs;
    for (let last = start, now = start; now < until; last = now) {
      for (let i = 0; i < 32; i++) {
        if (channel.hasRequest(seq)) return true;
        pause();
      }
      now = performance.now();
      if (now - last > PREEMPTED_MS) {
        this.#pausedUntil = now + CONTENDED_PAUSE_MS;
        break;
      }
    }
    this.#armed = false;
    return false;
  }

  /** Call when the blocking wait returned a request: polls next time if it came quickly. */
  woken(): void {
    this.#armed = this.#windowMs > 0 && performance.now() - this.#idleSince <= this.#windowMs;
  }
}

// A poll step takes well under a µs; a gap this long between two means the thread was descheduled.
const PREEMPTED_MS = 0.05;
// How long a worker that found itself descheduled while polling stops polling.
const CONTENDED_PAUSE_MS = 100;
const pause: () => void = (Atomics as unknown as { pause?: () => void }).pause ?? (() => {});

function asFailure(e: unknown): InstanceFailure {
  return e instanceof InstanceFailure ? e : new InstanceFailure("trap", String(e));
}

scope.onmessage = (e) => {
  scope.onmessage = null;
  channel = new CallChannel(e.data.channel);
  serve(e.data, channel);
};
