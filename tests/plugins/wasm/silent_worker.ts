/**
 * A stand-in plugin worker for tests, speaking the real worker's protocol: starts like it,
 * answers "{}" on the call channel to every call except a request "hang", which it never
 * answers (as a thread stuck outside the injected checks would not), a request "exit", on
 * which it closes itself mid-call, and a request starting with "echo:", which it echoes.
 */

import { CallChannel } from "../../../src/plugins/wasm/channel.ts";

const scope = self as unknown as {
  postMessage(message: unknown): void;
  onmessage: ((e: MessageEvent) => void) | null;
  close(): void;
};

scope.onmessage = (e) => {
  const channel = new CallChannel(e.data.channel);
  const deadline = performance.timeOrigin + performance.now() + 1000;
  scope.postMessage({ t: "instance", flag: new SharedArrayBuffer(4), deadline });
  scope.postMessage({ t: "ready" });
  let seq = channel.lastAnswer;
  for (;;) {
    const next = channel.nextRequest(seq, 1000);
    if (next === null) return scope.close();
    seq = next;
    const request = new TextDecoder().decode(channel.request());
    if (request === "exit") return scope.close();
    if (request === "hang") continue;
    channel.stage(new TextEncoder().encode(request.startsWith("echo:") ? request : "{}"));
    channel.answerOk(seq);
  }
};
