/**
 * The exact Deno permissions a router process needs for one config, as `deno run` flags.
 *
 * Deno cannot narrow a broad grant at run time (with `--allow-read`, revoking one path does
 * nothing), so `start` computes these flags from the config and runs the router as a child
 * process with them (see `launch.ts`).
 */
import { dirname, resolve } from "node:path";
import type { Config, ListenAddress, ProcessPluginConfig } from "../config/mod.ts";
import { kubeAccess, type KubeAccessDeps, KubeConfigError } from "../discovery/mod.ts";

/** Environment variables the router's libraries read: `yaml` and `hpack.js`' stream package. */
export const ROUTER_ENV = ["LOG_TOKENS", "LOG_STREAM", "READABLE_STREAM"] as const;

/**
 * Environment variables naming this replica in the admin status (`state/replica.ts`): the
 * Deployment sets `POD_NAME`; `HOSTNAME` is the pod's (or container's) name otherwise.
 */
export const REPLICA_ENV = ["POD_NAME", "HOSTNAME"] as const;

/** Unstable APIs the router uses: QUIC, and permission-less plugin workers. */
export const UNSTABLE_FLAGS = ["--unstable-net", "--unstable-worker-options"] as const;

/**
 * What the router may touch. Paths are absolute; net entries are `host[:port]`, or
 * `unix:PATH` for a process plugin's socket.
 */
export interface Grants {
  readonly read: readonly string[];
  /** Process plugins' socket folders (the router creates them and removes stale sockets). */
  readonly write: readonly string[];
  readonly net: readonly string[];
  readonly env: readonly string[];
  /**
   * Executables the router may start: Deno itself, for `wasm.isolation: process` and
   * `process.module` plugins; each `process.command` program (absolute, or a bare name).
   */
  readonly run: readonly string[];
}

/** Where relative paths resolve and which source files the router needs at run time. */
export interface SandboxContext {
  /** The working directory (relative config paths are relative to it, as in Hyrouter). */
  readonly cwd: string;
  /**
   * Source directory of the WASM plugin worker, when it is loaded from files (running from
   * `src/`); `null` when the worker is part of the program (bundle, compiled binary).
   */
  readonly workerSourceDir: string | null;
  /**
   * How discovery settings are resolved (the launcher's env for in-cluster, the kubeconfig
   * files); default: Deno's.
   */
  readonly kube?: KubeAccessDeps;
  /**
   * The Deno executable the router runs process-isolated WASM plugins and `process.module`
   * plugins with (default: this one's).
   */
  readonly execPath?: string;
}

/**
 * Computes the grants for `config` loaded from `configPath`:
 * - run: the Deno executable, only when a WASM plugin has `isolation: process` (its instances
 *   run in a permission-less child Deno). Not granted otherwise, not even in case a reload adds
 *   one: run permission on Deno lets a process start Deno with any flags, i.e. with every
 *   permission, so a router that has it is only as contained as its own code; a reload that
 *   adds the first such plugin is refused with a request to restart (`server/reload.ts`);
 * - read: the config file's directory (a reload re-reads the config and may load new plugin
 *   files placed beside it), the TLS certificate and key, every WASM module, and the WASM
 *   worker's own source directory when running from source (always: a reload may add the
 *   first WASM plugin), and the admin token file (re-read on reload);
 * - net: the listen address (UDP), the admin address (TCP) and every gRPC plugin address;
 * - process plugins: see {@link processPluginGrants};
 * - discovery providers: net to the API server, read on the kubeconfig and the files it names
 *   (or the service-account mount), env `KUBERNETES_SERVICE_HOST`/`_PORT` when in-cluster
 *   (`type: plugin` providers need nothing of their own: their process plugin has it);
 * - runtime state: read and write on exactly `admin.state_file` and its `<file>.tmp` (written,
 *   then renamed over the file; its exclusive creation is the writers' lock); for
 *   `admin.state_config_map`, what a discovery provider with the same `kubeconfig` gets;
 * - env: {@link ROUTER_ENV} and {@link REPLICA_ENV}.
 *
 * Every net entry is checked by {@link netGrant} first: a host that is not a host name or an IP
 * literal (a comma would add entries to Deno's list) is a {@link SandboxError} naming where it
 * was configured.
 */
export function computeGrants(config: Config, configPath: string, ctx: SandboxContext): Grants {
  const abs = (path: string) => resolve(ctx.cwd, path);
  const read = [dirname(abs(configPath))];
  if (config.tls.certFile) read.push(abs(config.tls.certFile));
  if (config.tls.keyFile) read.push(abs(config.tls.keyFile));
  if (config.admin.tokenFile) read.push(config.admin.tokenFile);
  const net = [listenGrant(config.listen, "listen")];
  if (config.admin.listen) net.push(listenGrant(config.admin.listen, "admin.listen"));
  const run: string[] = [];
  const write: string[] = [];
  const env: string[] = [...ROUTER_ENV, ...REPLICA_ENV];
  const deno = ctx.execPath ?? Deno.execPath();
  for (const plugin of config.plugins) {
    if (plugin.type === "grpc") net.push(grpcGrant(plugin.grpc.address, plugin.name));
    else if (plugin.type === "wasm") {
      read.push(abs(plugin.wasm.path));
      if (plugin.wasm.isolation === "process") run.push(deno);
    } else {
      const grants = processPluginGrants(plugin, deno);
      run.push(grants.run);
      // Read on the shared base folder too: the router checks it is its own before using it.
      read.push(dirname(grants.socketDir), grants.socketDir);
      write.push(grants.socketDir);
      net.push(grants.socket);
      env.push(...grants.env);
    }
  }
  // Granted even without WASM plugins: a reload may add one, and its worker loads from here.
  if (ctx.workerSourceDir) read.push(ctx.workerSourceDir);
  const kube = ctx.kube ?? { readTextFile: Deno.readTextFileSync, env: launcherEnv };
  for (const p of config.discovery.providers) {
    const access = providerAccess(p, abs, kube);
    read.push(...access.read);
    net.push(...access.net);
    env.push(...access.env);
  }
  const state = stateAccess(config.admin, abs, kube);
  read.push(...state.read);
  write.push(...state.write);
  net.push(...state.net);
  env.push(...state.env);
  return {
    read: unique(read),
    write: unique(write),
    net: unique(net),
    env: unique(env),
    run: unique(run),
  };
}

/**
 * What the router needs to run one process plugin (docs/plugins.md §7):
 * - run: exactly its program. For `command`, the program as configured: an absolute path, or a
 *   bare name, which Deno (2.9.6) resolves on the router's own `PATH` when the router starts —
 *   the very file a spawn of that name runs, so the launcher, which may not read `PATH`, need
 *   not look it up. For `module`, Deno's executable: as for `wasm.isolation: process`, run on
 *   Deno lets the router start Deno with any flags, so such a router is only as contained as
 *   its own code. A command itself runs outside Deno's sandbox, with every OS right of the
 *   router's user: `--allow-run` is the whole of what the launcher can limit about it;
 * - read and write on its socket folder: the router creates it, removes a stale socket file
 *   and connects (Deno 2.9.6 checks a Unix socket connect against read *and* write on the
 *   socket's path — the folder covers it — and against net `unix:PATH`, which only the exact
 *   path matches: a folder or no entry at all is refused);
 * - net `unix:<socket path>`, for that connect;
 * - env `PATH`: the router passes its `PATH` to every plugin child (the child's environment is
 *   `process.env` plus `PATH`); and `DENO_DIR` for a `module`, whose Deno is to use the router's
 *   module cache (the Deno image sets it, for one).
 */
export function processPluginGrants(
  plugin: ProcessPluginConfig,
  deno: string,
): { run: string; socketDir: string; socket: string; env: readonly string[] } {
  const { command, socketDir, socketPath } = plugin.process;
  return {
    run: command?.[0] ?? deno,
    socketDir,
    socket: `unix:${socketPath}`,
    env: command === null ? ["PATH", "DENO_DIR"] : ["PATH"],
  };
}

/** What the runtime state store needs: its file (and `<file>.tmp`), or its ConfigMap's API. */
function stateAccess(
  admin: Config["admin"],
  abs: (path: string) => string,
  kube: KubeAccessDeps,
): { read: readonly string[]; write: readonly string[]; net: string[]; env: readonly string[] } {
  if (admin.stateFile !== null) {
    const files = [admin.stateFile, `${admin.stateFile}.tmp`];
    return { read: files, write: files, net: [], env: [] };
  }
  if (admin.stateConfigMap === null) return { read: [], write: [], net: [], env: [] };
  const file = admin.stateConfigMap.kubeconfig;
  const access = apiAccess(file === null ? null : abs(file), "admin.state_config_map", kube);
  return { ...access, write: [] };
}

/** One provider's access, its API server checked into a net grant. */
function providerAccess(
  p: Config["discovery"]["providers"][number],
  abs: (path: string) => string,
  kube: KubeAccessDeps,
): { read: readonly string[]; net: string[]; env: readonly string[] } {
  // Fed by a process plugin, whose own grants cover it.
  if (p.type === "plugin") return { read: [], net: [], env: [] };
  const file = (p.type === "kubernetes" ? p.kubernetes : p.agones).kubeconfig;
  return apiAccess(file === null ? null : abs(file), `discovery provider "${p.name}"`, kube);
}

/** The access to the Kubernetes API a `kubeconfig` setting (absolute, `null`: in-cluster) needs. */
function apiAccess(
  file: string | null,
  where: string,
  kube: KubeAccessDeps,
): { read: readonly string[]; net: string[]; env: readonly string[] } {
  try {
    const access = kubeAccess(file, kube);
    const net = access.net.map((t) => netGrant(t.host, t.port, `${where}: ${t.source}`));
    return { read: access.read, net, env: access.env };
  } catch (err) {
    if (!(err instanceof KubeConfigError)) throw err;
    throw new SandboxError(`${where}: ${err.message}`);
  }
}

/** The `deno run` permission flags for `grants` (always with `--no-prompt`). */
export function permissionFlags(grants: Grants): string[] {
  const flags = [...UNSTABLE_FLAGS, "--no-prompt"];
  // Deno's list flags are comma-separated; a path containing a comma cannot be granted exactly.
  const lists = [["read", grants.read], ["write", grants.write], ["run", grants.run]] as const;
  for (const [what, paths] of lists) {
    for (const path of paths) {
      if (path.includes(",")) {
        throw new SandboxError(`cannot grant ${what} on ${path}: it has a comma`);
      }
    }
  }
  // computeGrants checked every host; this guards grants built any other way.
  for (const entry of grants.net) {
    if (/[,\s]/.test(entry) || entry === "") {
      throw new SandboxError(`cannot grant net access to ${JSON.stringify(entry)}`);
    }
  }
  if (grants.read.length > 0) flags.push(`--allow-read=${grants.read.join(",")}`);
  if (grants.write.length > 0) flags.push(`--allow-write=${grants.write.join(",")}`);
  if (grants.net.length > 0) flags.push(`--allow-net=${grants.net.join(",")}`);
  if (grants.env.length > 0) flags.push(`--allow-env=${grants.env.join(",")}`);
  if (grants.run.length > 0) flags.push(`--allow-run=${grants.run.join(",")}`);
  return flags;
}

/** A config the sandbox cannot express as Deno flags. */
export class SandboxError extends Error {
  /** Lets callers tell this apart without `instanceof`. */
  readonly code = "sandbox";
  /** @param message names the path or address that cannot be granted. */
  constructor(message: string) {
    super(message);
    this.name = "SandboxError";
  }
}

// Deno checks a bind as "host:port" ("[v6]:port"); port 0 binds whichever port is free, so only
// the host can be granted.
function listenGrant({ hostname, port }: ListenAddress, key: string): string {
  return netGrant(hostname, port === 0 ? null : String(port), key);
}

/** `plugins[].grpc.address` is `host:port` or `[v6]:port` (checked at load, split again here). */
function grpcGrant(address: string, plugin: string): string {
  const colon = address.lastIndexOf(":");
  const host = address.slice(0, Math.max(colon, 0)).replace(/^\[(.*)\]$/, "$1");
  const source = `plugin "${plugin}" grpc.address`;
  return netGrant(host, colon < 0 ? "" : address.slice(colon + 1), source);
}

const IPV4 =
  /^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$/;
// RFC 1123 labels; an inner "_" is let through as the config's own address grammar does.
const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?$/;

/**
 * The `--allow-net` entry for `host` and `port` (`null`: the host alone). The host must be an
 * IPv4 or IPv6 literal (IPv6 without brackets) or a host name of RFC 1123 labels; the port
 * 1–65535. Anything else — a comma, space, slash, `*`, an empty host — is a
 * {@link SandboxError} naming `source`, never a grant.
 */
export function netGrant(host: string, port: string | null, source: string): string {
  const problem = hostProblem(host) ??
    (port === null || /^[0-9]{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65535
      ? null
      : `port ${JSON.stringify(port)} is not a number from 1 to 65535`);
  if (problem !== null) throw new SandboxError(`cannot grant net access for ${source}: ${problem}`);
  const entryHost = host.includes(":") ? `[${host}]` : host;
  return port === null ? entryHost : `${entryHost}:${Number(port)}`;
}

function hostProblem(host: string): string | null {
  const bad = `host ${JSON.stringify(host)} is not a host name or an IP address`;
  if (host.includes(":")) {
    if (!/^[0-9A-Fa-f:.]+$/.test(host)) return bad;
    try {
      new URL(`http://[${host}]/`);
      return null;
    } catch {
      return bad;
    }
  }
  if (IPV4.test(host)) return null;
  if (/^[0-9.]+$/.test(host)) return bad; // digits and dots only, yet not an IPv4 address
  const labels = host.replace(/\.$/, "").split(".");
  return host.length <= 254 && labels.every((l) => LABEL.test(l)) ? null : bad;
}

function unique(items: readonly string[]): string[] {
  return [...new Set(items)];
}

/**
 * An environment variable as the launcher sees it. The launcher's `--allow-env` list includes
 * `KUBERNETES_SERVICE_HOST`/`_PORT`; run with a narrower list, a lookup yields nothing (the
 * router then names the missing variable itself) instead of failing the launcher.
 */
function launcherEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}
