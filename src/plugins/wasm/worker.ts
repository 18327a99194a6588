/**
 * Entry point of a plugin worker (started with `deno: {permissions: "none"}`). It holds one
 * plugin instance at a time, answers calls one by one and, whenever the instance dies (trap,
 * deadline, `proc_exit`, bad response), replaces it with a fresh one before serving again.
 * Messages are described by {@link ToWorker} and {@link FromWorker}.
 */

import { InstanceFailure, PluginInstance } from "./instance.ts";
import type { FromWorker, ToWorker } from "./protocol.ts";
import { wallNow } from "./wasi.ts";

interface WorkerScope {
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
}

const scope = self as unknown as WorkerScope;
let module: WebAssembly.Module | null = null;
let config: Uint8Array = new Uint8Array();
let initTimeoutMs = 5000;
let instance: PluginInstance | null = null;

function log(level: 0 | 1 | 2 | 3, source: string, text: string): void {
  scope.postMessage({ t: "log", level, source, text });
}

function renew(): void {
  instance = null;
  if (module === null) return;
  const deadline = wallNow() + initTimeoutMs;
  try {
    instance = PluginInstance.create(module, {
      config,
      log,
      deadline,
      onFlag: (flag) =>
        scope.postMessage({ t: "instance", flag: flag.buffer as SharedArrayBuffer, deadline }),
    });
    scope.postMessage({ t: "ready" });
  } catch (e) {
    const failure = e instanceof InstanceFailure ? e : new InstanceFailure("trap", String(e));
    scope.postMessage({ t: "init_failed", kind: failure.kind, message: failure.message });
  }
}

scope.onmessage = (e) => {
  const msg = e.data;
  if (msg.t === "init") {
    module = msg.module;
    config = msg.config;
    initTimeoutMs = msg.initTimeoutMs;
    renew();
    return;
  }
  if (instance === null) {
    scope.postMessage({ t: "fail", id: msg.id, kind: "trap", message: "no live instance" });
    return;
  }
  try {
    const response = instance.call(msg.request, msg.deadline);
    scope.postMessage({ t: "ok", id: msg.id, response }, [response.buffer as ArrayBuffer]);
  } catch (err) {
    const failure = err instanceof InstanceFailure ? err : new InstanceFailure("trap", String(err));
    scope.postMessage({ t: "fail", id: msg.id, kind: failure.kind, message: failure.message });
  }
  if (!instance.alive) renew();
};
