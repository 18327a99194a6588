/**
 * Messages between the router's thread and a plugin worker. Calls themselves do not travel as
 * messages: they go through the worker's {@link CallChannel} (see `channel.ts`), whose buffers
 * arrive with `init`.
 */

import type { ChannelBuffers } from "./channel.ts";
import type { FailureKind } from "./instance.ts";
import type { PrepareOptions } from "./prepare.ts";

/** Router → worker, once: everything the worker needs; it then serves calls until stopped. */
export type ToWorker = {
  readonly t: "init";
  readonly module: WebAssembly.Module;
  readonly config: Uint8Array;
  readonly initTimeoutMs: number;
  /**
   * How long the worker polls for the next request before sleeping, µs (0: never). A futex
   * wake-up of an idle vCPU costs 30–50 µs on a VM, the main cost of a call to a fast plugin;
   * polling avoids it when the next request comes within the window. The worker polls only after
   * a request that itself came within the window (wake-up included), i.e. while calls are
   * frequent, so an idle plugin burns no CPU and at most this much is wasted per burst.
   */
  readonly spinUs: number;
  /** The `CallChannel` buffers. */
  readonly channel: ChannelBuffers;
};

/**
 * Worker → router. Every instance announces its deadline flag (`instance`) before any of its
 * code runs, then `ready` or `init_failed`. After a call that killed the instance has been
 * answered on the channel, a new `instance`/`ready` pair follows.
 */
export type FromWorker =
  | { readonly t: "instance"; readonly flag: SharedArrayBuffer; readonly deadline: number }
  | { readonly t: "ready" }
  | { readonly t: "init_failed"; readonly kind: FailureKind; readonly message: string }
  | { readonly t: "log"; readonly level: 0 | 1 | 2 | 3; readonly source: string; text: string };

/** Router → prepare worker, once: the module bytes (moved) and the load settings. */
export interface PrepareRequest {
  readonly bytes: Uint8Array;
  readonly options: PrepareOptions;
}

/** Prepare worker → router, once: the compiled module, or why it was refused. */
export type PrepareReply =
  | { readonly ok: true; readonly module: WebAssembly.Module }
  | { readonly ok: false; readonly message: string };
