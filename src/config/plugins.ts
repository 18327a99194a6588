import { parseListenAddress } from "./address.ts";
import { indexPath, type Obj, type Reader } from "./fields.ts";
import type { Node } from "./nodes.ts";
import { type ProcessPluginContext, readProcess } from "./process_plugin.ts";
import { readPositiveDuration } from "./positive_duration.ts";
import { closest } from "./suggest.ts";
import {
  FAILURE_POLICIES,
  PLUGIN_STAGES,
  PLUGIN_TYPES,
  type PluginConfig,
  type PluginType,
  WASM_ISOLATIONS,
} from "./types.ts";
import { nodeValue } from "./value.ts";

const PLUGIN_KEYS = [
  "name",
  "type",
  "stage",
  "before",
  "after",
  "grpc",
  "wasm",
  "process",
  "timeout",
  "failure_policy",
];
const DEFAULT_TIMEOUT_MS = 1_000;
const DEFAULT_MAX_MEMORY = 64 * 1024 * 1024;
/** WebAssembly (32-bit) linear memory cannot exceed 65,536 pages of 64 KiB. */
const MAX_WASM_MEMORY = 65_536 * 65_536;
const DEFAULT_MAX_TABLE_ELEMENTS = 65_536;
/** V8's own limit on a table's size (`wasm-limits.h`: 10,000,000 elements). */
const MAX_TABLE_ELEMENTS = 10_000_000;
const DEFAULT_MAX_MODULE_SIZE = 32 * 1024 * 1024;
/** V8 refuses to compile modules over 1 GiB (`kV8MaxWasmModuleSize`). */
const MAX_MODULE_SIZE = 1024 ** 3;
const SIZE = /^([0-9]+)\s*(B|KB|KiB|MB|MiB|GB|GiB)?$/;
const UNITS: Readonly<Record<string, number>> = {
  B: 1,
  KB: 1e3,
  KiB: 1024,
  MB: 1e6,
  MiB: 1024 ** 2,
  GB: 1e9,
  GiB: 1024 ** 3,
};

/** Parsed plugin before ordering, with where it was written (for ordering errors). */
interface Located {
  readonly plugin: PluginConfig;
  readonly path: string;
  readonly obj: Obj;
}

/**
 * Reads `plugins`: validates each entry, checks names are unique and `before`/`after` name
 * real plugins, and returns them in execution order (docs/plugins.md §2 "Chain semantics"). A
 * cycle is reported naming the stage and the plugins in it. `ctx` locates the config file, for
 * process plugins' paths and sockets (`process_plugin.ts`).
 */
export function readPlugins(
  r: Reader,
  node: Node | undefined,
  ctx: ProcessPluginContext,
): readonly PluginConfig[] {
  const items = r.list(node, "plugins") ?? [];
  const located: Located[] = [];
  items.forEach((item, i) => {
    const path = indexPath("plugins", i);
    const obj = r.item(item, path, PLUGIN_KEYS);
    const plugin = obj && readPlugin(r, obj, ctx);
    if (obj && plugin) located.push({ plugin, path, obj });
  });
  checkNames(r, located);
  // A duplicate name was reported above; order the first of each name only.
  const unique = located.filter((l, i) =>
    located.findIndex((o) => o.plugin.name === l.plugin.name) === i
  );
  return orderPlugins(r, unique);
}

function readPlugin(r: Reader, obj: Obj, ctx: ProcessPluginContext): PluginConfig | undefined {
  const name = r.text(obj, "name");
  const type = r.choice(r.required(obj, "type"), obj.at("type"), "plugin type", PLUGIN_TYPES);
  const stage = r.choice(obj.get("stage"), obj.at("stage"), "stage", PLUGIN_STAGES, "route") ??
    "route";
  const policy = r.choice(
    obj.get("failure_policy"),
    obj.at("failure_policy"),
    "failure policy",
    FAILURE_POLICIES,
    "continue",
  );
  const base = {
    name: name ?? "",
    stage,
    before: r.strings(obj.get("before"), obj.at("before")) ?? [],
    after: r.strings(obj.get("after"), obj.at("after")) ?? [],
    timeoutMs: readPositiveDuration(r, obj, "timeout") ?? DEFAULT_TIMEOUT_MS,
    failurePolicy: policy ?? "continue",
  };
  checkTransportKeys(r, obj, type);
  if (type === "grpc") {
    const address = readGrpc(r, obj);
    return name !== undefined && address !== undefined
      ? { ...base, type, grpc: { address } }
      : undefined;
  }
  if (type === "wasm") {
    const wasm = readWasm(r, obj);
    return name !== undefined && wasm !== undefined ? { ...base, type, wasm } : undefined;
  }
  if (type === "process") {
    const process = readProcess(r, obj, name, ctx);
    return name !== undefined && process !== undefined ? { ...base, type, process } : undefined;
  }
  return undefined;
}

/**
 * Another transport's section (`grpc:` on a wasm plugin, `wasm:` on a process plugin, …) is a
 * mistake Hyrouter silently ignored.
 */
function checkTransportKeys(r: Reader, obj: Obj, type: PluginType | undefined): void {
  if (type === undefined) return;
  for (const other of PLUGIN_TYPES) {
    const node = other === type ? undefined : obj.get(other);
    if (node === undefined || node.kind === "null") continue;
    r.report("invalid", obj.at(other), obj.keyPosition(other), `only used by ${other} plugins`);
  }
}

function readGrpc(r: Reader, plugin: Obj): string | undefined {
  const obj = r.object(r.required(plugin, "grpc"), plugin.at("grpc"), ["address"]);
  const address = obj && r.text(obj, "address");
  if (obj === undefined || address === undefined) return undefined;
  const parsed = parseListenAddress(address);
  if (parsed.ok && parsed.address.hostname !== "::" && parsed.address.port > 0) return address;
  const node = obj.get("address");
  return r.report(
    "invalid",
    obj.at("address"),
    node?.position ?? null,
    `expected HOST:PORT of the plugin server, got ${JSON.stringify(address)}`,
  );
}

function readWasm(r: Reader, plugin: Obj): WasmSettings | undefined {
  const keys = [
    "path",
    "sha256",
    "config",
    "max_memory",
    "max_table_elements",
    "max_module_size",
    "isolation",
  ];
  const obj = r.object(r.required(plugin, "wasm"), plugin.at("wasm"), keys);
  const path = obj && r.text(obj, "path");
  if (obj === undefined || path === undefined) return undefined;
  const sha256 = readSha256(r, obj);
  const maxMemoryBytes = readSize(r, obj, "max_memory", 65_536, MAX_WASM_MEMORY) ??
    DEFAULT_MAX_MEMORY;
  const maxTableElements = r.int(
    obj.get("max_table_elements"),
    obj.at("max_table_elements"),
    0,
    MAX_TABLE_ELEMENTS,
  ) ?? DEFAULT_MAX_TABLE_ELEMENTS;
  const maxModuleBytes = readSize(r, obj, "max_module_size", 1024, MAX_MODULE_SIZE) ??
    DEFAULT_MAX_MODULE_SIZE;
  const isolation =
    r.choice(obj.get("isolation"), obj.at("isolation"), "isolation", WASM_ISOLATIONS, "worker") ??
      "worker";
  const configNode = obj.get("config");
  const config = configNode === undefined || configNode.kind === "null"
    ? {}
    : nodeValue(configNode, r.format);
  return sha256 === undefined ? undefined : {
    path,
    sha256,
    config,
    maxMemoryBytes,
    maxTableElements,
    maxModuleBytes,
    isolation,
  };
}

type WasmSettings = Extract<PluginConfig, { type: "wasm" }>["wasm"];

function readSha256(r: Reader, obj: Obj): string | null | undefined {
  const node = obj.get("sha256");
  const text = r.string(node, obj.at("sha256"))?.trim();
  if (text === undefined || text === "" || node === undefined) return null;
  if (/^[0-9a-fA-F]{64}$/.test(text)) return text.toLowerCase();
  r.report("invalid", obj.at("sha256"), node.position, "expected 64 hex digits (a SHA-256 digest)");
  return undefined;
}

// A size such as `64MiB` in `[min, max]` bytes (both powers of 1024 here, so the message can
// print them in their unit).
function readSize(
  r: Reader,
  obj: Obj,
  key: string,
  min: number,
  max: number,
): number | undefined {
  const node = obj.get(key);
  if (node === undefined || node.kind === "null") return undefined;
  const text = node.kind === "scalar" ? node.text.trim() : "";
  const m = SIZE.exec(text);
  const bytes = m ? Number(m[1]) * (UNITS[m[2] ?? "B"] ?? 1) : NaN;
  if (!m || node.kind !== "scalar") {
    return r.report(
      "invalid",
      obj.at(key),
      node.position,
      `expected a size like "64MiB" or a number of bytes, got ${JSON.stringify(text)}`,
    );
  }
  if (bytes < min || bytes > max) {
    return r.report(
      "invalid",
      obj.at(key),
      node.position,
      `must be between ${formatSize(min)} and ${formatSize(max)}, got ${JSON.stringify(text)}`,
    );
  }
  return bytes;
}

function formatSize(bytes: number): string {
  for (const unit of ["GiB", "MiB", "KiB"]) {
    const size = UNITS[unit]!;
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return `${bytes}B`;
}

function checkNames(r: Reader, located: readonly Located[]): void {
  const seen = new Set<string>();
  const names = located.map((l) => l.plugin.name);
  for (const { plugin, path, obj } of located) {
    if (seen.has(plugin.name)) {
      r.report(
        "invalid",
        `${path}.name`,
        obj.keyPosition("name"),
        `duplicate plugin name "${plugin.name}"`,
      );
    }
    seen.add(plugin.name);
    for (const key of ["before", "after"] as const) {
      for (const ref of plugin[key]) {
        if (names.includes(ref)) continue;
        const guess = closest(ref, names);
        r.report(
          "reference",
          `${path}.${key}`,
          obj.keyPosition(key),
          `no plugin is named "${ref}"`,
          guess ? `did you mean "${guess}"?` : null,
        );
      }
    }
  }
}

/**
 * Execution order: stages in order; within a stage a topological order of before/after edges
 * (names outside the stage ignored), ties broken by config order.
 */
function orderPlugins(r: Reader, located: readonly Located[]): readonly PluginConfig[] {
  const out: PluginConfig[] = [];
  for (const stage of PLUGIN_STAGES) {
    const members = located.filter((l) => l.plugin.stage === stage);
    const ordered = topological(members.map((m) => m.plugin));
    if (ordered.ok) {
      out.push(...ordered.order);
      continue;
    }
    const first = members.find((m) => ordered.cycle.includes(m.plugin.name));
    r.report(
      "invalid",
      first ? first.path : "plugins",
      first ? first.obj.node.position : null,
      `before/after form a cycle in stage "${stage}": ${ordered.cycle.join(", ")}`,
    );
  }
  return out.map(withStageEdges);
}

function topological(
  plugins: readonly PluginConfig[],
): { ok: true; order: PluginConfig[] } | { ok: false; cycle: string[] } {
  const names = new Set(plugins.map((p) => p.name));
  const mustFollow = new Map<string, Set<string>>(plugins.map((p) => [p.name, new Set()]));
  for (const p of plugins) {
    for (const later of p.before) if (names.has(later)) mustFollow.get(later)!.add(p.name);
    for (const earlier of p.after) if (names.has(earlier)) mustFollow.get(p.name)!.add(earlier);
  }
  const order: PluginConfig[] = [];
  const done = new Set<string>();
  while (order.length < plugins.length) {
    const ready = plugins.find((p) =>
      !done.has(p.name) && [...mustFollow.get(p.name)!].every((n) => done.has(n))
    );
    if (!ready) {
      return {
        ok: false,
        cycle: plugins.filter((p) => !done.has(p.name)).map((p) => p.name),
      };
    }
    order.push(ready);
    done.add(ready.name);
  }
  return { ok: true, order };
}

// Edges to other stages never constrain anything; drop them so the typed value says what runs.
function withStageEdges(
  plugin: PluginConfig,
  _i: number,
  all: readonly PluginConfig[],
): PluginConfig {
  const sameStage = (n: string) => all.some((p) => p.name === n && p.stage === plugin.stage);
  return {
    ...plugin,
    before: plugin.before.filter(sameStage),
    after: plugin.after.filter(sameStage),
  };
}
