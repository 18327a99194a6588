/**
 * Entry point of a plugin worker (started with `deno: {permissions: "none"}`). It holds one
 * plugin instance at a time, answers calls one by one from its {@link CallChannel} and,
 * whenever the instance dies (trap, deadline, `proc_exit`, bad response), replaces it with a
 * fresh one before serving again.
 *
 * After `init` the worker never returns to its event loop: it blocks in `Atomics.wait` between
 * calls, which wakes much faster than a message would. Its outgoing messages (`log`,
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

// Runs the current request through `instance` and answers it on the channel.
function answer(channel: CallChannel, seq: number, instance: PluginInstance | null): void {
  if (instance === null) return channel.answerFail(seq, "trap", "no live instance");
  try {
    instance.callWith(channel.request(), channel.deadline(), (view) => channel.stage(view));
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
  let seq = channel.lastAnswer;
  for (;;) {
    const next = channel.nextRequest(seq, IDLE_MS);
    if (next === null) return scope.close();
    seq = next;
    answer(channel, seq, instance);
    if (instance === null || !instance.alive) {
      instance = create(init);
      if (instance === null) return;
    }
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
