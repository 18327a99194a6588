/**
 * Entry point of the worker that prepares a module off the router's thread (started with
 * `deno: {permissions: "none"}`, one per load): it receives the module bytes and the load
 * options, runs {@link checkModule} — size cap, sha256 pin, validation, limits, rewriting,
 * compilation — and posts back the compiled module, or why it was refused. Validating and rewriting a large module takes the better part of a second (a
 * 200,000-function module: ~0.4 s), which on the router's thread would stall every connection
 * and `/healthz` for as long.
 */

import { checkModule } from "./prepare.ts";
import type { PrepareReply, PrepareRequest } from "./protocol.ts";

const scope = self as unknown as {
  postMessage(message: PrepareReply): void;
  onmessage: ((e: MessageEvent<PrepareRequest>) => void) | null;
  close(): void;
};

scope.onmessage = async (e) => {
  scope.onmessage = null;
  try {
    // Only the module: what was learnt about it is checked here already, and a module with
    // 100,000 exports made that a structured clone of ~0.4 s on the router's thread.
    const { module } = await checkModule(e.data.bytes, e.data.options);
    scope.postMessage({ ok: true, module });
  } catch (err) {
    scope.postMessage({ ok: false, message: err instanceof Error ? err.message : String(err) });
  }
  scope.close();
};
