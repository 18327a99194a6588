/**
 * A stand-in plugin worker for tests, speaking the real worker's protocol: starts like it,
 * answers "{}" on the call channel to every call except a request "hang", on which it blocks
 * for good (as a thread stuck outside the injected checks would), a request "exit", on
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
  for (let seq = 0;; seq = (seq + 1) | 0) {
    if (!channel.waitRequest(seq, 1000)) return scope.close();
    if (!channel.claim(seq)) {
      channel.answerFail(seq, "skipped", "cancelled");
      continue;
    }
    const request = new TextDecoder().decode(channel.request(seq));
    if (request === "exit") return scope.close();
    // Stuck for good, as a thread outside the injected checks would be (termination ends it).
    if (request === "hang") Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
    channel.stage(seq, new TextEncoder().encode(request.startsWith("echo:") ? request : "{}"));
    channel.answerOk(seq);
  }
};
