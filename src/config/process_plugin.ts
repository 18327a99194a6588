/**
 * The `process` section of a `type: process` plugin (docs/plugins.md §7), and where its socket
 * lives.
 *
 * **Socket naming.** Deno grants a Unix socket only by its exact path (read, write and
 * `--allow-net=unix:PATH` on the socket itself; a folder or a wildcard does not match the net
 * part), so the router names every process plugin's socket when it loads the config, and the
 * launcher grants exactly those paths (`cli/sandbox.ts`):
 *
 * - runtime dir: `/tmp/gatehouse-<h>`, `<h>` the first 16 hex digits of the SHA-256 of the
 *   config file's absolute path (as given, resolved against the working directory; links are
 *   not followed);
 * - `socketDir`: `<runtime dir>/<plugin name>`, private to the plugin;
 * - `socketPath`: `<socketDir>/plugin.sock`, where the plugin must listen.
 *
 * The same config file therefore gives the same paths at every start and every reload: the
 * launcher's grants stay valid, and a restarted plugin listens where the router looks. Two
 * routers on different config files never share a folder. The plugin's name becomes a path
 * component, so a process plugin's name must be letters, digits, `.`, `_` and `-` (not `.` or
 * `..`), and the socket path must fit a `sockaddr_un` (107 bytes and the NUL): both are load
 * errors naming the plugin.
 *
 * `/tmp` is shared and these names are predictable: whoever creates the folders (the router,
 * before it starts a plugin) must make them mode 0700 and refuse a folder that is a link, is
 * not its own or is open to others — else another local user could create it first and listen
 * in the plugin's place.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { resolve } from "node:path";
import { childPath, indexPath, type Obj, type Reader } from "./fields.ts";
import type { Node } from "./nodes.ts";
import { readPositiveDuration } from "./positive_duration.ts";
import type { ProcessPermissions, ProcessPluginConfig } from "./types.ts";
import { nodeValue } from "./value.ts";

/** Where the config file is: what relative paths and socket names derive from. */
export interface ProcessPluginContext {
  /** The config file's folder (absolute): relative `command`, `module` and `read` paths. */
  readonly configDir: string;
  /** The runtime dir of this config file (see the module comment). */
  readonly runtimeDir: string;
}

/** The parsed `process` section. */
export type ProcessSettings = ProcessPluginConfig["process"];

const PROCESS_KEYS = [
  "command",
  "module",
  "permissions",
  "env",
  "config",
  "pool_size",
  "ready_timeout",
];
const PERMISSION_KEYS = ["net", "read", "env"];
const DEFAULT_POOL_SIZE = 4;
const MAX_POOL_SIZE = 64;
const DEFAULT_READY_TIMEOUT_MS = 5_000;
/** `sockaddr_un.sun_path` is 108 bytes on Linux, one of them the terminating NUL. */
const MAX_SOCKET_PATH_BYTES = 107;
const SOCKET_FILE = "plugin.sock";
const SAFE_NAME = /^[A-Za-z0-9._-]+$/;
/** A `--allow-net` entry: a host name, IPv4 or bracketed IPv6 literal, and an optional port. */
const NET_ENTRY =
  /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)(?::([0-9]{1,5}))?$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const NO_PERMISSIONS: ProcessPermissions = { net: [], read: [], env: [] };

/**
 * The runtime dir of the config file `source` (resolved against the working directory); see
 * the module comment.
 */
export function runtimeDirOf(source: string): string {
  const digest = createHash("sha256").update(resolve(source)).digest("hex");
  return `/tmp/gatehouse-${digest.slice(0, 16)}`;
}

/**
 * Reads `plugin.process` of the process plugin named `name` (`undefined` when the name itself
 * was invalid, already reported). Every problem is reported with its path and position;
 * `undefined` when there was one.
 */
export function readProcess(
  r: Reader,
  plugin: Obj,
  name: string | undefined,
  ctx: ProcessPluginContext,
): ProcessSettings | undefined {
  const obj = r.object(r.required(plugin, "process"), plugin.at("process"), PROCESS_KEYS);
  const sockets = name === undefined ? undefined : socketOf(r, plugin, name, ctx.runtimeDir);
  if (obj === undefined) return undefined;
  const errors = r.errors.length;
  const program = readProgram(r, obj, ctx.configDir);
  const permissions = program === undefined
    ? NO_PERMISSIONS
    : readPermissions(r, obj, program.module !== null, ctx.configDir);
  const env = readEnv(r, obj);
  const configNode = obj.get("config");
  const config = configNode === undefined || configNode.kind === "null"
    ? {}
    : nodeValue(configNode, r.format);
  const poolSize = r.int(obj.get("pool_size"), obj.at("pool_size"), 1, MAX_POOL_SIZE) ??
    DEFAULT_POOL_SIZE;
  const readyTimeoutMs = readPositiveDuration(r, obj, "ready_timeout") ??
    DEFAULT_READY_TIMEOUT_MS;
  if (r.errors.length > errors || program === undefined || sockets === undefined) {
    return undefined;
  }
  const workDir = ctx.configDir;
  return { ...program, permissions, env, config, poolSize, readyTimeoutMs, ...sockets, workDir };
}

/** The plugin's socket folder and path, or `undefined` when its name cannot make them. */
function socketOf(
  r: Reader,
  plugin: Obj,
  name: string,
  runtimeDir: string,
): { socketDir: string; socketPath: string } | undefined {
  const position = plugin.get("name")?.position ?? plugin.node.position;
  if (!SAFE_NAME.test(name) || name === "." || name === "..") {
    return r.report(
      "invalid",
      plugin.at("name"),
      position,
      `a process plugin's name names its socket folder: use only letters, digits, ".", "_" ` +
        `and "-" (not "." or ".."), got ${JSON.stringify(name)}`,
    );
  }
  const socketDir = `${runtimeDir}/${name}`;
  const socketPath = `${socketDir}/${SOCKET_FILE}`;
  const bytes = new TextEncoder().encode(socketPath).length;
  if (bytes > MAX_SOCKET_PATH_BYTES) {
    return r.report(
      "invalid",
      plugin.at("name"),
      position,
      `the plugin's socket path ${socketPath} is ${bytes} bytes, over the ` +
        `${MAX_SOCKET_PATH_BYTES} a Unix socket address holds; use a shorter name`,
    );
  }
  return { socketDir, socketPath };
}

/** Exactly one of `command` and `module`, their paths resolved. */
function readProgram(
  r: Reader,
  obj: Obj,
  configDir: string,
): { command: readonly string[] | null; module: string | null } | undefined {
  const commandNode = present(obj.get("command"));
  const moduleNode = present(obj.get("module"));
  if (commandNode !== undefined && moduleNode !== undefined) {
    return r.report(
      "invalid",
      obj.at("module"),
      obj.keyPosition("module"),
      "set either command or module, not both",
    );
  }
  if (moduleNode !== undefined) {
    const module = r.string(moduleNode, obj.at("module"));
    if (module === undefined) return undefined;
    if (module.trim() === "") {
      return r.report("required", obj.at("module"), moduleNode.position, "must not be empty");
    }
    return { command: null, module: resolve(configDir, module.trim()) };
  }
  if (commandNode !== undefined) {
    const command = readCommand(r, commandNode, obj.at("command"), configDir);
    return command && { command, module: null };
  }
  if (obj.misspelt.has("command") || obj.misspelt.has("module")) return undefined;
  return r.report(
    "required",
    obj.path,
    obj.node.position,
    "needs command (a program and its arguments) or module (a TypeScript or JavaScript file)",
  );
}

/**
 * `command`: a non-empty list of strings. The program (the first) may not be blank and, being
 * granted as a comma-separated `--allow-run` entry, may not hold a comma; a relative path to
 * it is resolved against the config file's folder, a bare name is kept for the `PATH` lookup.
 */
function readCommand(
  r: Reader,
  node: Node,
  path: string,
  configDir: string,
): readonly string[] | undefined {
  const items = r.list(node, path);
  if (items === undefined) return undefined;
  if (items.length === 0) {
    return r.report("required", path, node.position, "must name the program to run");
  }
  const argv: string[] = [];
  let ok = true;
  items.forEach((item, i) => {
    const value = item.kind === "null"
      ? r.typeError(item, indexPath(path, i), "a string")
      : r.string(item, indexPath(path, i));
    if (value === undefined) ok = false;
    else argv.push(value);
  });
  const program = argv[0]?.trim();
  if (!ok || program === undefined) return undefined;
  const at = indexPath(path, 0);
  const position = items[0]!.position;
  if (program === "") return r.report("required", at, position, "must not be empty");
  if (program.includes(",")) {
    const detail = "the program's path may not contain a comma (Deno's --allow-run, which " +
      "grants it, is a comma-separated list)";
    return r.report("invalid", at, position, detail);
  }
  const relative = program.includes("/") && !program.startsWith("/");
  return [relative ? resolve(configDir, program) : program, ...argv.slice(1)];
}

/**
 * `permissions` is for `module` plugins only: a `command` runs outside Deno's sandbox, with
 * every OS right of the router's user, so listing permissions for it would promise a limit
 * nothing enforces.
 */
function readPermissions(
  r: Reader,
  obj: Obj,
  isModule: boolean,
  configDir: string,
): ProcessPermissions {
  const node = present(obj.get("permissions"));
  if (node === undefined) return NO_PERMISSIONS;
  if (!isModule) {
    r.report(
      "invalid",
      obj.at("permissions"),
      obj.keyPosition("permissions"),
      "only used by module plugins: a command runs outside Deno's sandbox, with every right " +
        "of the router's OS user (limit it with the OS: its own user, a container)",
    );
    return NO_PERMISSIONS;
  }
  const p = r.object(node, obj.at("permissions"), PERMISSION_KEYS);
  if (p === undefined) return NO_PERMISSIONS;
  return {
    net: permissionList(r, p, "net", netProblem),
    read: permissionList(r, p, "read", (e) => e.includes(",") ? NO_COMMA : null)
      .map((e) => resolve(configDir, e)),
    env: permissionList(r, p, "env", (e) => ENV_NAME.test(e) ? null : NOT_A_NAME),
  };
}

/** The trimmed strings of list `key` of `p` that `check` finds no problem with (reported). */
function permissionList(
  r: Reader,
  p: Obj,
  key: string,
  check: (entry: string) => string | null,
): readonly string[] {
  const out: string[] = [];
  (r.list(p.get(key), p.at(key)) ?? []).forEach((item, i) => {
    const at = indexPath(p.at(key), i);
    const value = item.kind === "null" ? r.typeError(item, at, "a string") : r.string(item, at);
    if (value === undefined) return;
    const entry = value.trim();
    const problem = entry === "" ? "must not be empty" : check(entry);
    if (problem === null) out.push(entry);
    else r.report("invalid", at, item.position, problem);
  });
  return out;
}

const NO_COMMA = "may not contain a comma (Deno's permission lists are comma-separated)";
const NOT_A_NAME = "expected a variable name (letters, digits and _, not starting with a digit)";

function netProblem(entry: string): string | null {
  const m = NET_ENTRY.exec(entry);
  const port = m?.[1];
  if (m && (port === undefined || (Number(port) >= 1 && Number(port) <= 65_535))) return null;
  return `expected HOST or HOST:PORT (an IPv6 address in brackets), got ${JSON.stringify(entry)}`;
}

/** `env`: variable name → string value, the child's whole environment besides `PATH`. */
function readEnv(r: Reader, obj: Obj): Readonly<Record<string, string>> {
  const entries = r.entries(obj.get("env"), obj.at("env")) ?? [];
  const env: Record<string, string> = {};
  for (const entry of entries) {
    const path = childPath(obj.at("env"), entry.key);
    if (!ENV_NAME.test(entry.key)) {
      r.report("invalid", path, entry.keyPosition, NOT_A_NAME);
      continue;
    }
    const value = entry.value.kind === "null"
      ? r.typeError(entry.value, path, "a string")
      : r.string(entry.value, path);
    if (value !== undefined) env[entry.key] = value;
  }
  return env;
}

/** `node` unless it is absent or null (null counts as unset, as everywhere in the config). */
function present(node: Node | undefined): Node | undefined {
  return node === undefined || node.kind === "null" ? undefined : node;
}
