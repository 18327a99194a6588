/**
 * One instance of a plugin module and the memory ABI of docs/plugins.md §5.1: `alloc` → write
 * request → `on_connect` → read the packed (ptr, len) response → optional `free`. Runs wherever
 * it is created: inside a sandboxed worker for the router, on the calling thread for the
 * benchmark's baseline. An instance that failed once is never used again.
 */

import type { PluginErrorKind } from "../../observability/mod.ts";
import { DEADLINE_EXPORT, START_EXPORT } from "./rewriter.ts";
import { wallNow, Wasi, type WasiLogLevel } from "./wasi.ts";

/**
 * How a call or an initialisation failed, as seen inside the instance: any plugin error kind
 * but `unavailable`, which only the host decides (no instance, breaker open).
 */
export type FailureKind = Exclude<PluginErrorKind, "unavailable">;

/** A failure of plugin code; the instance that raised it is dead. */
export class InstanceFailure extends Error {
  override readonly name = "InstanceFailure";
  constructor(readonly kind: FailureKind, message: string) {
    super(message);
  }
}

/** What an instance needs from its runner. */
export interface InstanceOptions {
  /** The plugin's `wasm.config` as JSON bytes, handed to the optional `init` export. */
  readonly config: Uint8Array;
  /** Log lines from the module. */
  log(level: WasiLogLevel, source: string, text: string): void;
  /** Called once the deadline flag exists, before any plugin code runs. */
  onFlag?(flag: Int32Array): void;
  /** Deadline for the start function, `_initialize` and `init` (see `wallNow`). */
  readonly deadline: number;
}

type Fn = (...args: number[]) => unknown;

/** A live plugin instance. */
export class PluginInstance {
  readonly #memory: WebAssembly.Memory;
  readonly #alloc: Fn;
  readonly #onConnect: Fn;
  readonly #free: Fn | null;
  readonly #wasi: Wasi;
  readonly #flag: Int32Array | null;
  #deadline: number;
  #dead = false;

  private constructor(instance: WebAssembly.Instance, wasi: Wasi, deadline: number) {
    const ex = instance.exports;
    this.#memory = ex.memory as WebAssembly.Memory;
    this.#alloc = ex.alloc as Fn;
    this.#onConnect = ex.on_connect as Fn;
    this.#free = typeof ex.free === "function" ? ex.free as Fn : null;
    const flagMemory = ex[DEADLINE_EXPORT] as WebAssembly.Memory | undefined;
    this.#flag = flagMemory ? new Int32Array(flagMemory.buffer, 0, 1) : null;
    this.#wasi = wasi;
    this.#deadline = deadline;
  }

  /**
   * Instantiates `module`, then runs its start function (exported by the rewriter), its
   * `_initialize` and its `init(config)` — each exactly once. Throws {@link InstanceFailure}.
   */
  static create(module: WebAssembly.Module, options: InstanceOptions): PluginInstance {
    let self: PluginInstance | null = null;
    const wasi = new Wasi({
      log: (level, source, text) => options.log(level, source, text),
      deadline: () => self === null ? options.deadline : self.#deadline,
      flag: () => self === null ? null : self.#flag,
    });
    let instance: WebAssembly.Instance;
    try {
      instance = new WebAssembly.Instance(module, wasi.imports());
    } catch (e) {
      throw new InstanceFailure("trap", `instantiation failed: ${describe(e)}`);
    }
    wasi.bind(instance.exports.memory as WebAssembly.Memory);
    self = new PluginInstance(instance, wasi, options.deadline);
    if (self.#flag) options.onFlag?.(self.#flag);
    self.#initialise(instance.exports, options.config);
    return self;
  }

  #initialise(ex: WebAssembly.Exports, config: Uint8Array): void {
    for (const name of [START_EXPORT, "_initialize"]) {
      const fn = ex[name];
      if (typeof fn === "function") this.#guard(() => (fn as Fn)(), `${name}`);
    }
    const init = ex.init;
    if (typeof init !== "function") return;
    const rc = this.#guard(() => {
      const ptr = this.#writeRequest(config);
      return (init as Fn)(ptr, config.length);
    }, "init");
    if (rc !== 0) {
      this.#dead = true;
      throw new InstanceFailure("trap", `init returned ${rc}`);
    }
  }

  /** Whether this instance may serve another call. */
  get alive(): boolean {
    return !this.#dead && (this.#flag === null || Atomics.load(this.#flag, 0) === 0);
  }

  /** Runs one ConnectRequest through the module; returns the response bytes (a copy). */
  call(request: Uint8Array, deadline: number): Uint8Array {
    return this.callWith(request, deadline, (response) => response.slice());
  }

  /**
   * Runs one ConnectRequest through the module and hands the response to `read` as a view of
   * linear memory — valid only during `read`, which runs before the module frees it — so the
   * caller copies the bytes once, straight to where they go.
   */
  callWith<T>(request: Uint8Array, deadline: number, read: (response: Uint8Array) => T): T {
    if (!this.alive) throw new InstanceFailure("trap", "instance is no longer usable");
    this.#deadline = deadline;
    return this.#guard(() => {
      const ptr = this.#writeRequest(request);
      const packed = this.#onConnect(ptr, request.length);
      if (typeof packed !== "bigint") {
        throw new InstanceFailure("bad_response", "on_connect did not return an i64");
      }
      const respPtr = Number(packed >> 32n) >>> 0;
      const respLen = Number(BigInt.asUintN(32, packed));
      const size = this.#memory.buffer.byteLength;
      if (respPtr + respLen > size) {
        throw new InstanceFailure(
          "bad_response",
          `response (ptr ${respPtr}, len ${respLen}) lies outside linear memory (${size} bytes)`,
        );
      }
      const result = read(new Uint8Array(this.#memory.buffer, respPtr, respLen));
      if (this.#free) {
        this.#free(ptr, request.length);
        this.#free(respPtr, respLen);
      }
      return result;
    }, "on_connect");
  }

  #writeRequest(bytes: Uint8Array): number {
    const ptr = (this.#alloc(bytes.length) as number) >>> 0;
    const size = this.#memory.buffer.byteLength;
    if (ptr + bytes.length > size || (ptr === 0 && bytes.length > 0)) {
      throw new InstanceFailure(
        "bad_response",
        `alloc(${bytes.length}) returned ${ptr}, outside linear memory (${size} bytes)`,
      );
    }
    new Uint8Array(this.#memory.buffer, ptr, bytes.length).set(bytes);
    return ptr;
  }

  // Runs plugin code; any failure kills the instance and is classified.
  #guard<T>(body: () => T, what: string): T {
    try {
      return body();
    } catch (e) {
      this.#dead = true;
      this.#wasi.flush();
      if (e instanceof InstanceFailure) throw e;
      const exit = this.#wasi.exitCode;
      if (exit !== null) throw new InstanceFailure("trap", `${what}: proc_exit(${exit})`);
      if (this.#flag !== null && Atomics.load(this.#flag, 0) !== 0) {
        throw new InstanceFailure("timeout", `${what}: stopped at the deadline`);
      }
      if (wallNow() >= this.#deadline && e instanceof RangeError) {
        throw new InstanceFailure("timeout", `${what}: stopped at the deadline`);
      }
      throw new InstanceFailure("trap", `${what} trapped: ${describe(e)}`);
    }
  }
}

function describe(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}
