/** Messages between the router's thread and a plugin worker. */

import type { FailureKind } from "./instance.ts";

/** Router → worker. `init` comes first and once; `call` only while the worker is ready. */
export type ToWorker =
  | {
    readonly t: "init";
    readonly module: WebAssembly.Module;
    readonly config: Uint8Array;
    readonly initTimeoutMs: number;
  }
  | { readonly t: "call"; readonly id: number; readonly request: Uint8Array; deadline: number };

/**
 * Worker → router. Every instance announces its deadline flag (`instance`) before any of its
 * code runs, then `ready` or `init_failed`. After a `fail` that killed the instance, a new
 * `instance`/`ready` pair follows.
 */
export type FromWorker =
  | { readonly t: "instance"; readonly flag: SharedArrayBuffer; readonly deadline: number }
  | { readonly t: "ready" }
  | { readonly t: "init_failed"; readonly kind: FailureKind; readonly message: string }
  | { readonly t: "ok"; readonly id: number; readonly response: Uint8Array }
  | {
    readonly t: "fail";
    readonly id: number;
    readonly kind: FailureKind;
    readonly message: string;
  }
  | { readonly t: "log"; readonly level: 0 | 1 | 2 | 3; readonly source: string; text: string };
