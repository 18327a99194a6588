import type { Config, ListenAddress, PluginConfig } from "../config/mod.ts";
import type { Discovery } from "../discovery/mod.ts";
import type { Logger } from "../observability/mod.ts";
import type { PluginTransport } from "../plugins/mod.ts";
import type { Generation, GenerationSlot } from "./generations.ts";
import {
  buildSnapshot,
  closeSnapshot,
  type RuntimeSnapshot,
  type SnapshotDeps,
} from "./snapshot.ts";
import { settleWithin } from "./timing.ts";

/**
 * How long plugins a reload removed stay open for connections still served by an older
 * config. Connections are bounded by `connect_timeout`, plugin timeouts and the 2 s close wait;
 * this is the backstop for the rest (a plugin closed under a call fails that call).
 */
export const RETIRE_WAIT_MS = 30_000;

/** Which plugins a successful reload kept, loaded and closed (by name). */
export interface PluginChanges {
  /** Same transport settings (and, for WASM, the same module file bytes): kept running. */
  readonly reused: readonly string[];
  /**
   * Reused process plugins whose `process.config` changed: the running process took the new
   * one (`configure`, prox's Reconfigure) before the swap.
   */
  readonly reconfigured: readonly string[];
  /** New or changed: loaded before the swap. */
  readonly loaded: readonly string[];
  /** Removed or replaced: closed once no connection on an older config uses them. */
  readonly closed: readonly string[];
}

/** Which discovery providers a successful reload kept and started (by name). */
export interface DiscoveryChanges {
  /** Same settings and kubeconfig contents: kept running (no re-list). */
  readonly reused: readonly string[];
  /** New or changed: started, and synced before the swap. */
  readonly started: readonly string[];
}

/** What a reload did; metrics and logs are built from it. */
export type ReloadResult =
  | {
    readonly ok: true;
    /** The config file now served. */
    readonly source: string;
    readonly plugins: PluginChanges;
    readonly discovery: DiscoveryChanges;
    /** Settles once the removed plugins and the replaced providers are closed. */
    readonly retired: Promise<void>;
  }
  | {
    readonly ok: false;
    /** The config file that was refused; the running config stays in force. */
    readonly source: string;
    /** Every reason, one line each (`file:line:col path: message` for config errors). */
    readonly errors: readonly string[];
  };

/** Reads a plugin module's bytes (for the reuse check); injected by tests. */
export type ModuleReader = (path: string) => Promise<Uint8Array<ArrayBuffer>>;

/** What the reloader needs besides the slot. */
export interface ReloadDeps extends Omit<SnapshotDeps, "reuse"> {
  readonly readModule?: ModuleReader;
  /** The grant check (tests replace it); default {@link ungrantedPlugins}. */
  readonly ungranted?: (next: Config) => string[];
}

/** A reused plugin sent a new `config` in place (`PluginTransport.reconfigure`). */
interface Reconfigured {
  readonly name: string;
  readonly old: RunningConfig;
  readonly reconfigure: (config: unknown) => Promise<void>;
}

/** The `process.config` a process plugin's transport runs with, and its JSON for comparing. */
interface RunningConfig {
  readonly value: unknown;
  readonly json: string;
}

/** Logs a reload's outcome: every error on its own line, then one summary line. */
export function logReloadResult(logger: Logger, result: ReloadResult): void {
  if (result.ok) {
    logger.info("config reloaded", {
      config: result.source,
      plugins_reused: result.plugins.reused.join(",") || undefined,
      plugins_reconfigured: result.plugins.reconfigured.join(",") || undefined,
      plugins_loaded: result.plugins.loaded.join(",") || undefined,
      plugins_closed: result.plugins.closed.join(",") || undefined,
      discovery_reused: result.discovery.reused.join(",") || undefined,
      discovery_started: result.discovery.started.join(",") || undefined,
    });
    return;
  }
  for (const error of result.errors) logger.error("reload error", { error });
  logger.error("reload failed; still serving the previous config", {
    config: result.source,
    errors: result.errors.length,
  });
}

/**
 * Swaps the slot's snapshot for one built from a new config: one reload at a time, plugins
 * with unchanged settings reused, changed ones loaded before the swap, removed ones closed after
 * every older generation is idle (at most {@link RETIRE_WAIT_MS}). A process plugin whose only
 * change is its `process.config` keeps its process, which is sent the new config before the
 * swap; if it refuses, the whole reload is refused and every plugin keeps the config it had.
 */
export class Reloader {
  readonly #slot: GenerationSlot;
  readonly #deps: ReloadDeps;
  /** Transport → the fingerprint of the settings it was loaded with. */
  readonly #fingerprints = new WeakMap<PluginTransport, string>();
  /** Process plugin transport → the `process.config` it runs with. */
  readonly #configs = new WeakMap<PluginTransport, RunningConfig>();
  readonly #retiring = new Set<Promise<void>>();
  readonly #closing = Promise.withResolvers<void>();
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  private constructor(slot: GenerationSlot, deps: ReloadDeps) {
    this.#slot = slot;
    this.#deps = deps;
  }

  /** A reloader for `slot`, remembering the settings its current plugins were loaded with. */
  static async create(slot: GenerationSlot, deps: ReloadDeps): Promise<Reloader> {
    const reloader = new Reloader(slot, deps);
    const { config, chain } = slot.current.snapshot;
    const prints = await reloader.#fingerprintAll(config.plugins);
    chain.transports.forEach((t, i) => reloader.#fingerprints.set(t, prints[i]!));
    reloader.#rememberConfigs(config.plugins, chain.transports);
    return reloader;
  }

  /** Applies `config`, or refuses it and keeps the current one. Never rejects. */
  reload(config: Config): Promise<ReloadResult> {
    const next = this.#queue.then(() => this.#apply(config));
    this.#queue = next.catch(() => {});
    return next;
  }

  /**
   * Refuses further reloads, closes removed plugins still waiting for old connections, then the
   * current plugins.
   */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#queue;
    this.#closing.resolve();
    await Promise.all(this.#retiring);
    await closeSnapshot(this.#slot.current.snapshot);
  }

  async #apply(config: Config): Promise<ReloadResult> {
    const source = config.source;
    if (this.#closed) return { ok: false, source, errors: [`${source}: shutting down`] };
    const current = this.#slot.current.snapshot;
    const ungranted = this.#deps.ungranted ?? ungrantedPlugins;
    const refused = [...fixedSettingChanges(current.config, config), ...ungranted(config)];
    if (refused.length > 0) return { ok: false, source, errors: refused };
    const prints = await this.#fingerprintAll(config.plugins);
    const printOf = new Map(config.plugins.map((p, i) => [p, prints[i]]));
    const running = new Map(current.chain.transports.map((t) => [this.#fingerprints.get(t), t]));
    const reuse = (p: PluginConfig) => running.get(printOf.get(p));
    let snapshot;
    try {
      // New providers must sync (bounded) before the swap; the old ones keep serving meanwhile.
      const deps = {
        ...this.#deps,
        reuse,
        previousDiscovery: current.discovery,
        requireDiscoverySync: true,
      };
      snapshot = await buildSnapshot(config, deps);
    } catch (err) {
      return { ok: false, source, errors: [`${source}: ${(err as Error)?.message ?? err}`] };
    }
    const reconfigured = await this.#reconfigure(config.plugins, snapshot.chain.transports);
    if (!reconfigured.ok) {
      await discardSnapshot(snapshot, current.chain.transports);
      return { ok: false, source, errors: [`${source}: ${reconfigured.error}`] };
    }
    this.#rememberConfigs(config.plugins, snapshot.chain.transports);
    const kept = new Set(snapshot.chain.transports);
    snapshot.chain.transports.forEach((t, i) => this.#fingerprints.set(t, prints[i]!));
    const older = this.#slot.swap(snapshot);
    const removed = current.chain.transports.filter((t) => !kept.has(t));
    const retired = this.#retire(older, removed, current.discovery);
    const plugins = {
      reused: config.plugins.filter((_, i) => running.has(prints[i])).map((p) => p.name),
      reconfigured: reconfigured.names,
      loaded: config.plugins.filter((_, i) => !running.has(prints[i])).map((p) => p.name),
      closed: removed.map((t) => t.name),
    };
    const { reused } = snapshot.discovery;
    const started = snapshot.discovery.names.filter((name) => !reused.includes(name));
    return { ok: true, source, plugins, discovery: { reused, started }, retired };
  }

  /**
   * Closes `removed` and lets go of the replaced config's discovery providers (those the new
   * config shares keep running) once every generation in `older` is idle, or the wait runs out.
   */
  #retire(
    older: readonly Generation[],
    removed: readonly PluginTransport[],
    discovery: Discovery,
  ): Promise<void> {
    if (removed.length === 0 && discovery.names.length === 0) return Promise.resolve();
    const idle = Promise.all(older.map((g) => g.idle()));
    const task = settleWithin(Promise.race([idle, this.#closing.promise]), RETIRE_WAIT_MS)
      .then(async (inTime) => {
        discovery.close();
        if (!inTime && removed.length > 0) {
          this.#deps.logger.warn("closing removed plugins under connections still in flight", {
            plugins: removed.map((t) => t.name).join(","),
          });
        }
        await Promise.allSettled(removed.map((t) => t.close()));
      });
    this.#retiring.add(task);
    return task.finally(() => this.#retiring.delete(task));
  }

  /**
   * Sends each reused process plugin whose `process.config` changed its new config, in chain
   * order. On the first refusal, those already changed are sent their old config back (a
   * failure to is logged: that plugin then runs the new config under the old one) and the
   * refusal is returned.
   */
  async #reconfigure(
    plugins: readonly PluginConfig[],
    transports: readonly PluginTransport[],
  ): Promise<{ ok: true; names: string[] } | { ok: false; error: string }> {
    const done: Reconfigured[] = [];
    for (const [i, plugin] of plugins.entries()) {
      const transport = transports[i];
      const old = transport && this.#configs.get(transport);
      if (plugin.type !== "process" || !transport?.reconfigure || !old) continue;
      if (JSON.stringify(plugin.process.config) === old.json) continue;
      try {
        const reconfigure = transport.reconfigure.bind(transport);
        await reconfigure(plugin.process.config);
        done.push({ name: plugin.name, old, reconfigure });
      } catch (err) {
        await this.#restoreConfigs(done);
        const reason = err instanceof Error ? err.message : String(err);
        return { ok: false, error: `plugin "${plugin.name}" refused its new config: ${reason}` };
      }
    }
    return { ok: true, names: done.map((d) => d.name) };
  }

  async #restoreConfigs(
    done: readonly Reconfigured[],
  ): Promise<void> {
    for (const { reconfigure, name, old } of done) {
      try {
        await reconfigure(old.value);
      } catch (err) {
        this.#deps.logger.error("plugin kept the new config of a refused reload", {
          plugin: name,
          error: err instanceof Error ? err.message : String(err),
        });
      }
    }
  }

  #rememberConfigs(plugins: readonly PluginConfig[], transports: readonly PluginTransport[]) {
    plugins.forEach((plugin, i) => {
      const transport = transports[i];
      if (plugin.type !== "process" || transport === undefined) return;
      const value = plugin.process.config;
      this.#configs.set(transport, { value, json: JSON.stringify(value) });
    });
  }

  #fingerprintAll(plugins: readonly PluginConfig[]): Promise<string[]> {
    const read = this.#deps.readModule ?? Deno.readFile;
    return Promise.all(plugins.map((p) => pluginFingerprint(p, read)));
  }
}

/**
 * Closes what a built snapshot that will not be served started: its discovery holds and the
 * transports it loaded anew (not those it reuses from `running`).
 */
async function discardSnapshot(
  snapshot: RuntimeSnapshot,
  running: readonly PluginTransport[],
): Promise<void> {
  snapshot.discovery.close();
  const fresh = snapshot.chain.transports.filter((t) => !running.includes(t));
  await Promise.allSettled(fresh.map((t) => t.close()));
}

/**
 * Everything a plugin's transport is built from. Stage, ordering and failure policy are chain
 * settings, so changing them reuses the transport; for WASM the module file's SHA-256 counts
 * too, so a rebuilt module is reloaded even when its path and (absent) pin are unchanged. A
 * process plugin's `process.config` does not count: the running process takes a new one in
 * place (see {@link Reloader}).
 */
export async function pluginFingerprint(plugin: PluginConfig, read: ModuleReader): Promise<string> {
  const common = { type: plugin.type, name: plugin.name, timeoutMs: plugin.timeoutMs };
  if (plugin.type === "grpc") return JSON.stringify({ ...common, grpc: plugin.grpc });
  // The program's file is not read: the router holds no grant on it. A rebuilt program runs
  // from the plugin's next restart.
  if (plugin.type === "process") {
    const { config: _config, ...process } = plugin.process;
    return JSON.stringify({ ...common, process });
  }
  let file: string | null = null;
  try {
    const digest = await crypto.subtle.digest("SHA-256", await read(plugin.wasm.path));
    file = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
  } catch {
    // Unreadable now: compare settings alone (loading it anew would fail anyway).
  }
  return JSON.stringify({ ...common, wasm: plugin.wasm, file });
}

/**
 * Settings a reload cannot change without a restart: the bound socket (`listen`), its
 * certificate and ALPN list (`tls`), its QUIC transport settings (`quic`) and the admin
 * address. Any change refuses the whole reload, so the router always runs one file's content.
 */
export function fixedSettingChanges(running: Config, next: Config): string[] {
  const changes: string[] = [];
  const say = (what: string, from: string, to: string) =>
    changes.push(`${next.source}: ${what} changed (${from} → ${to}); restart to apply it`);
  if (addr(running.listen) !== addr(next.listen)) {
    say("listen", addr(running.listen), addr(next.listen));
  }
  const tls = (c: Config) => JSON.stringify([c.tls.certFile, c.tls.keyFile, c.tls.alpn]);
  if (tls(running) !== tls(next)) say("tls", tls(running), tls(next));
  if (running.quic.maxIdleTimeoutMs !== next.quic.maxIdleTimeoutMs) {
    const idle = (c: Config) => `max_idle_timeout ${c.quic.maxIdleTimeoutMs} ms`;
    say("quic", idle(running), idle(next));
  }
  const admin = (c: Config) => c.admin.listen ? addr(c.admin.listen) : "disabled";
  if (admin(running) !== admin(next)) say("admin.listen", admin(running), admin(next));
  return changes;
}

/**
 * Plugins this process may not reach: a gRPC address without net permission, a WASM module
 * without read permission (`start` grants exactly what the first config needed, so a reload
 * that adds such a plugin would load it only to fail every call — and deny every player under
 * `failure_policy: deny`), a WASM plugin with `isolation: process` without run permission on
 * Deno (granted only when the first config has one, see `cli/sandbox.ts`), a process plugin
 * without run permission on its program, read and write on its socket folder, net on its
 * socket or env `PATH` (and `DENO_DIR` for a module; `processPluginGrants` in
 * `cli/sandbox.ts`: a new plugin, a new
 * program, or a config file moved elsewhere, which renames every socket). Each needs a
 * restart, which grants it.
 */
export function ungrantedPlugins(next: Config): string[] {
  const missing: string[] = [];
  for (const plugin of next.plugins) {
    for (const [descriptor, what] of pluginNeeds(plugin)) {
      if (Deno.permissions.querySync(descriptor).state === "granted") continue;
      missing.push(
        `${next.source}: plugin "${plugin.name}" needs ${what}, which this process was not started with; restart to apply it`,
      );
    }
  }
  return missing;
}

/** The permissions `plugin` needs, each with how a message names it. */
function pluginNeeds(plugin: PluginConfig): [Deno.PermissionDescriptor, string][] {
  switch (plugin.type) {
    case "grpc":
      return [[{ name: "net", host: plugin.grpc.address }, `net access to ${plugin.grpc.address}`]];
    case "wasm": {
      const { path, isolation } = plugin.wasm;
      const needs: [Deno.PermissionDescriptor, string][] = [
        [{ name: "read", path }, `read access to ${path}`],
      ];
      if (isolation === "process") {
        const deno = Deno.execPath();
        needs.push([{ name: "run", command: deno }, `run access to ${deno} (isolation: process)`]);
      }
      return needs;
    }
    case "process": {
      const { command, socketDir, socketPath } = plugin.process;
      const program = command?.[0] ?? Deno.execPath();
      const env = command === null ? ["PATH", "DENO_DIR"] : ["PATH"];
      return [
        [{ name: "run", command: program }, `run access to ${program}`],
        [{ name: "read", path: socketDir }, `read access to ${socketDir}`],
        [{ name: "write", path: socketDir }, `write access to ${socketDir}`],
        [{ name: "net", host: `unix:${socketPath}` }, `net access to unix:${socketPath}`],
        ...env.map((variable): [Deno.PermissionDescriptor, string] => [
          { name: "env", variable },
          `env access to ${variable}`,
        ]),
      ];
    }
  }
}

function addr(a: ListenAddress): string {
  return a.hostname.includes(":") ? `[${a.hostname}]:${a.port}` : `${a.hostname}:${a.port}`;
}
