/**
 * Process plugin transport (docs/plugins.md §7): a supervised executable — or a TypeScript module
 * run by the router's own Deno in a sandbox of its own — asked about every player over msgpack
 * frames on a Unix socket it listens on, told how each connection ended, and able to push live
 * backend lists (`set_targets`) for a discovery provider of `type: plugin`. The prox proxy's
 * plugin contract, adapted to Gatehouse.
 *
 * @module
 */

import type { Backend, ProcessPluginConfig } from "../../config/mod.ts";
import type { Logger } from "../../observability/mod.ts";
import type { PluginResponse } from "../codec.ts";
import {
  type ConnectCall,
  type ConnectionEnd,
  PluginError,
  type PluginTransport,
  type PushedTargets,
} from "../transport.ts";
import { Watchdog } from "../watchdog.ts";
import { PluginLog } from "../wasm/plugin_log.ts";
import { envelopeFrame, HOOK_TYPES } from "./frames.ts";
import { decodeConnectResult, encodeConnect, encodeDisconnect } from "./hooks.ts";
import { LifecycleDispatcher } from "./lifecycle.ts";
import type { HookConnector } from "./pool.ts";
import { type BackoffOptions, Supervisor } from "./supervisor.ts";

export type { BackoffOptions } from "./supervisor.ts";
export type { HookConn, HookConnector } from "./pool.ts";
// What a `HookConn` is made of; public because `HookConn` (a connector's result) is.
export type { ByteReader, ByteWriter } from "./frames.ts";

/** `on_disconnect` data waiting to be sent, per plugin; more are dropped and counted. */
const DISCONNECT_QUEUE = 1024;

/**
 * After a write of `on_disconnect` frames, the sender waits this long before the next one, so
 * that under load the ends of many connections leave in one write: one wake-up of the plugin
 * (and one write syscall, ~100 µs of the router's CPU on a busy 2-core VM) per batch instead of
 * per connection (at 300 connections/s, ~6 in a write). A lone end is still sent at once; none
 * waits longer than this for being in a batch.
 */
const DISCONNECT_LINGER_MS = 20;
/** Most `on_disconnect` frames in one write. */
const DISCONNECT_BATCH = 64;

/** The PATH a child gets when the router may not read its own. */
const FALLBACK_PATH = "/usr/local/bin:/usr/bin:/bin";

/** Options of {@linkcode loadProcessPlugin}. */
export interface ProcessPluginOptions {
  /** The plugin's configured name (errors, log lines, `route_id`, `r`). */
  readonly name: string;
  /** The `process` section. */
  readonly process: ProcessPluginConfig["process"];
  /** The plugin's `timeout`: each call's deadline, `on_disconnect` sends included. */
  readonly timeoutMs: number;
  /** Base logger; the transport adds `plugin=<name>`. */
  readonly logger: Logger;
  /** Restart delays (default: 100 ms doubling to 10 s, reset after 60 s up). */
  readonly backoff?: BackoffOptions;
  /** Opens hook connections (default: `Deno.connect` on the Unix socket). */
  readonly connect?: HookConnector;
  /** The Deno binary that runs a `module` plugin (default `Deno.execPath()`). */
  readonly denoPath?: string;
}

/** A loaded process plugin: the chain's transport plus what the rest of the router asks of it. */
export interface ProcessTransport extends PluginTransport {
  /** Always present: process plugins take structured calls. */
  connect(call: ConnectCall, timeoutMs: number): Promise<PluginResponse>;
  /** Always present: queues `on_disconnect` when the plugin serves it. */
  connectionEnded(end: ConnectionEnd): void;
  /** Always present: sends a changed `config` to the same process. */
  reconfigure(config: unknown): Promise<void>;
  /** Always present: the `set_targets` lists, by target set id. */
  readonly targetFeed: PushedTargets;
  /** `on_disconnect` notifications dropped (queue full, or the send failed). */
  readonly disconnectsDropped: number;
  /** Processes started after the first. */
  readonly restarts: number;
  /** The running process's id; `null` while it is down. */
  readonly pid: number | null;
}

/**
 * Starts a process plugin and waits for its `ready`. Rejects with a `PluginError` of kind `load`
 * naming the plugin when it cannot start or is not ready within `ready_timeout`.
 */
export async function loadProcessPlugin(options: ProcessPluginOptions): Promise<ProcessTransport> {
  const { name, process: p } = options;
  const logger = options.logger.with({ plugin: name });
  const log = new PluginLog(logger);
  const watchdog = new Watchdog();
  const targets = new Targets();
  const supervisor = new Supervisor({
    name,
    argv: processArgv(p, options.denoPath ?? Deno.execPath()),
    env: childEnv(p),
    config: p.config,
    socketPath: p.socketPath,
    socketDir: p.socketDir,
    workDir: p.workDir,
    readyTimeoutMs: p.readyTimeoutMs,
    poolSize: p.poolSize,
    logger,
    log,
    dispatcher: new LifecycleDispatcher(logger, log),
    watchdog,
    onTargets: (setId, backends) => targets.set(setId, backends),
    ...(options.backoff ? { backoff: options.backoff } : {}),
    ...(options.connect ? { connect: options.connect } : {}),
  });
  try {
    await supervisor.start();
  } catch (err) {
    watchdog.close();
    throw err;
  }
  return new ProcessPlugin(name, options.timeoutMs, supervisor, targets, watchdog, logger);
}

/**
 * The argv of the plugin's process. A `module` runs under the router's Deno with `--no-config`
 * and no permissions but its socket (Deno grants a Unix socket only per exact path, for read,
 * write and `net` `unix:PATH`) and what `permissions` lists.
 */
export function processArgv(p: ProcessPluginConfig["process"], denoPath: string): string[] {
  if (p.command) return [...p.command];
  if (!p.module) throw new Error("a process plugin needs command or module");
  const { net, read, env } = p.permissions;
  const flags = [
    `--allow-read=${[p.socketPath, ...read].join(",")}`,
    `--allow-write=${p.socketPath}`,
    `--allow-net=${[`unix:${p.socketPath}`, ...net].join(",")}`,
  ];
  if (env.length > 0) flags.push(`--allow-env=${env.join(",")}`);
  return [denoPath, "run", "--no-prompt", "--no-config", ...flags, p.module];
}

/**
 * The child's whole environment: the configured `env` plus `PATH` (the router's, when it may
 * read it). A `module` plugin also gets `DENO_DIR` when the router has one, so the router's Deno
 * finds its module cache.
 */
export function childEnv(p: ProcessPluginConfig["process"]): Record<string, string> {
  const env: Record<string, string> = { ...p.env };
  env.PATH ??= readEnv("PATH") ?? FALLBACK_PATH;
  const denoDir = p.module ? readEnv("DENO_DIR") : undefined;
  if (denoDir !== undefined) env.DENO_DIR ??= denoDir;
  return env;
}

function readEnv(variable: string): string | undefined {
  if (Deno.permissions.querySync({ name: "env", variable }).state !== "granted") return undefined;
  return Deno.env.get(variable);
}

/** The latest pushed list of each target set, push counts, and who listens for pushes. */
class Targets implements PushedTargets {
  readonly #sets = new Map<string, { list: readonly Backend[]; count: number; atMs: number }>();
  readonly #listeners = new Set<() => void>();

  targets(setId: string): readonly Backend[] | null {
    return this.#sets.get(setId)?.list ?? null;
  }

  pushes(setId: string): { readonly count: number; readonly lastAtMs: number | null } {
    const set = this.#sets.get(setId);
    return { count: set?.count ?? 0, lastAtMs: set?.atMs ?? null };
  }

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Replaces the list of `setId` and tells every listener. */
  set(setId: string, list: readonly Backend[]): void {
    const count = (this.#sets.get(setId)?.count ?? 0) + 1;
    this.#sets.set(setId, { list, count, atMs: Date.now() });
    for (const listener of this.#listeners) listener();
  }
}

/** An `on_connect` answer for a plugin that does not serve `on_connect`: change nothing. */
const PASS: PluginResponse = {
  deny: false,
  denyReason: "",
  candidates: null,
  selectedIndex: null,
  backend: null,
  referralContent: null,
};

class ProcessPlugin implements ProcessTransport {
  readonly name: string;
  readonly targetFeed: PushedTargets;
  readonly #timeoutMs: number;
  readonly #supervisor: Supervisor;
  readonly #watchdog: Watchdog;
  readonly #logger: Logger;
  readonly #queue: Uint8Array[] = [];
  #sending = false;
  #dropped = 0;
  #closed = false;

  constructor(
    name: string,
    timeoutMs: number,
    supervisor: Supervisor,
    targets: Targets,
    watchdog: Watchdog,
    logger: Logger,
  ) {
    this.name = name;
    this.#timeoutMs = timeoutMs;
    this.#supervisor = supervisor;
    this.targetFeed = targets;
    this.#watchdog = watchdog;
    this.#logger = logger;
  }

  get disconnectsDropped(): number {
    return this.#dropped;
  }

  get restarts(): number {
    return this.#supervisor.restarts;
  }

  /** While the process is down (restarting), calls fail at once as `unavailable`. */
  get circuitOpen(): boolean {
    return !this.#closed && this.#supervisor.pid === null;
  }

  get pid(): number | null {
    return this.#supervisor.pid;
  }

  call(): Promise<Uint8Array> {
    return Promise.reject(
      new PluginError(this.name, "unavailable", "process plugins take structured calls only"),
    );
  }

  async connect(call: ConnectCall, timeoutMs: number): Promise<PluginResponse> {
    if (this.#closed) throw new PluginError(this.name, "unavailable", "plugin closed");
    const { pool, hooks } = this.#supervisor.current();
    if (!hooks.has("on_connect")) return PASS;
    const frame = this.#frame(HOOK_TYPES.on_connect, encodeConnect(this.name, call));
    const bytes = await pool.call(frame, timeoutMs, true);
    return decodeConnectResult(bytes!, this.name);
  }

  connectionEnded(end: ConnectionEnd): void {
    if (this.#closed) return;
    if (this.#queue.length >= DISCONNECT_QUEUE) {
      if (this.#dropped++ === 0) {
        this.#logger.warn("plugin on_disconnect queue full; notifications dropped (counted)");
      }
      return;
    }
    this.#queue.push(encodeDisconnect(this.name, end));
    if (!this.#sending) this.#sendQueued();
  }

  reconfigure(config: unknown): Promise<void> {
    return this.#supervisor.reconfigure(config);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue.length = 0;
    await this.#supervisor.close();
    this.#watchdog.close();
  }

  // One sender per plugin drains the queue: fire-and-forget frames, no response read. What
  // queued meanwhile leaves together, in one write (frames simply follow each other).
  async #sendQueued(): Promise<void> {
    this.#sending = true;
    while (this.#queue.length > 0 && !this.#closed) {
      const batch = this.#queue.splice(0, DISCONNECT_BATCH);
      try {
        const { pool, hooks } = this.#supervisor.current();
        if (!hooks.has("on_disconnect")) continue;
        await pool.call(this.#frames(HOOK_TYPES.on_disconnect, batch), this.#timeoutMs, false);
      } catch {
        this.#dropped += batch.length;
      }
      if (this.#queue.length >= DISCONNECT_BATCH) continue; // a backlog goes out at once
      await new Promise<void>((linger) => this.#watchdog.arm(DISCONNECT_LINGER_MS, linger));
    }
    this.#sending = false;
  }

  // The frames of `batch`, one after another; one that cannot be framed is dropped and counted.
  #frames(type: number, batch: readonly Uint8Array[]): Uint8Array {
    const frames: Uint8Array[] = [];
    for (const data of batch) {
      try {
        frames.push(this.#frame(type, data));
      } catch {
        this.#dropped++;
      }
    }
    if (frames.length === 1) return frames[0]!;
    const out = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
    let at = 0;
    for (const f of frames) {
      out.set(f, at);
      at += f.length;
    }
    return out;
  }

  #frame(type: number, data: Uint8Array): Uint8Array {
    try {
      return envelopeFrame(type, data);
    } catch (err) {
      throw new PluginError(this.name, "unavailable", `request not sent: ${String(err)}`);
    }
  }
}
