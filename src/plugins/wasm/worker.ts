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

function log(level: 0 | 1 | 2 | 3, source: string, text: string): void {
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

/**
 * How long the worker polls for the next request before sleeping in `Atomics.wait`, µs. A
 * futex wake-up of an idle vCPU costs 30–50 µs on a VM, the main cost of a call to a fast
 * plugin; polling avoids it whenever the next request comes within this window. Adaptive, so an
 * idle plugin burns no CPU: the worker polls only after a request that itself came within the
 * window (measured from the previous answer, wake-up included), i.e. while calls are frequent.
 * At most SPIN_US of CPU is wasted per burst of calls.
 */
const SPIN_US = 150;

function serve(init: ToWorker, channel: CallChannel): void {
  let instance = create(init);
  // The router sends no call before `ready`, so there is nothing to serve without an instance.
  if (instance === null) return;
  let seq = 0;
  let spin = 0;
  for (;;) {
    const idleSince = performance.now();
    if (!channel.waitRequest(seq, IDLE_MS, spin)) return scope.close();
    spin = (performance.now() - idleSince) * 1000 <= SPIN_US ? SPIN_US : 0;
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

function asFailure(e: unknown): InstanceFailure {
  return e instanceof InstanceFailure ? e : new InstanceFailure("trap", String(e));
}

scope.onmessage = (e) => {
  scope.onmessage = null;
  channel = new CallChannel(e.data.channel);
  serve(e.data, channel);
};
