import type { Position } from "./errors.ts";
import { childPath, indexPath, type Obj, type Reader } from "./fields.ts";
import type { Node } from "./nodes.ts";
import { needsKey, readFilters, readSortKeys, readStrategy } from "./selection.ts";
import type {
  Backend,
  FallbackConfig,
  PoolConfig,
  PoolDiscoveryConfig,
  StrategyName,
} from "./types.ts";

/** A `pool.discovery.provider` to check once the configured providers are known. */
export interface ProviderRef {
  readonly provider: string;
  readonly path: string;
  readonly position: Position;
}

const POOL_KEYS = [
  "strategy",
  "key",
  "sample",
  "sort",
  "limit",
  "filters",
  "fallback",
  "backends",
  "discovery",
];
const FALLBACK_KEYS = ["strategy", "key", "sample", "sort", "limit", "filters"];
const BACKEND_KEYS = ["host", "port", "weight", "meta"];

/** Reads a pool; `undefined` when absent, null or broken. Provider names go to `refs`. */
export function readPool(
  r: Reader,
  node: Node | undefined,
  path: string,
  refs: ProviderRef[],
): PoolConfig | undefined {
  const obj = r.object(node, path, POOL_KEYS);
  if (obj === undefined) return undefined;
  const strategy = readStrategy(r, r.required(obj, "strategy"), obj.at("strategy"));
  const key = r.string(obj.get("key"), obj.at("key"))?.trim() ?? "";
  if (needsKey(strategy) && key === "") missingKey(r, obj, strategy);
  const discovery = readPoolDiscovery(r, obj.get("discovery"), obj.at("discovery"), refs);
  const backends = readBackends(r, obj, strategy);
  if (backends.length === 0 && discovery === null) noCandidates(r, obj);
  return {
    strategy: strategy ?? "round_robin",
    key,
    sample: r.int(obj.get("sample"), obj.at("sample")) ?? 0,
    sort: readSortKeys(r, obj.get("sort"), obj.at("sort")) ?? [],
    limit: r.int(obj.get("limit"), obj.at("limit")) ?? 0,
    filters: readFilters(r, obj.get("filters"), obj.at("filters")) ?? [],
    fallback: readFallbacks(r, obj.get("fallback"), obj.at("fallback"), { strategy, key }),
    backends,
    discovery,
  };
}

function missingKey(r: Reader, obj: Obj, strategy: StrategyName | undefined): void {
  const node = obj.get("key");
  const position = node?.position ?? obj.node.position;
  r.report("required", obj.at("key"), position, `required for strategy "${strategy}"`);
}

function noCandidates(r: Reader, obj: Obj): void {
  const node = obj.get("backends");
  const detail = "a pool needs backends or discovery";
  if (node === undefined || node.kind === "null") {
    r.report("required", obj.path, obj.node.position, detail);
  } else if (node.kind === "seq" && node.items.length === 0) {
    r.report("required", obj.at("backends"), node.position, `must not be empty (${detail})`);
  }
}

function readBackends(r: Reader, pool: Obj, strategy: StrategyName | undefined): Backend[] {
  const path = pool.at("backends");
  return (r.list(pool.get("backends"), path) ?? []).flatMap((item, i) => {
    const obj = r.item(item, indexPath(path, i), BACKEND_KEYS);
    const backend = obj && readBackend(r, obj, strategy);
    return backend === undefined ? [] : [backend];
  });
}

function readBackend(r: Reader, obj: Obj, strategy: StrategyName | undefined): Backend | undefined {
  const host = r.text(obj, "host");
  const port = r.int(r.required(obj, "port"), obj.at("port"), 1, 65535);
  const weightNode = obj.get("weight");
  const weight = r.int(weightNode, obj.at("weight"));
  const unset = weightNode === undefined || weightNode.kind === "null";
  if (strategy === "weighted" && (weight === 0 || unset)) {
    const detail = 'must be greater than 0 for strategy "weighted"';
    r.report("invalid", obj.at("weight"), weightNode?.position ?? obj.node.position, detail);
  }
  const meta = readMeta(r, obj.get("meta"), obj.at("meta"));
  if (host === undefined || port === undefined) return undefined;
  return { host, port, weight: weight ?? 0, meta };
}

function readMeta(r: Reader, node: Node | undefined, path: string): Backend["meta"] {
  const entries = r.entries(node, path);
  if (entries === undefined) return null;
  // No prototype: lookups like meta["constructor"] must not find Object.prototype members.
  const meta: Record<string, string> = Object.create(null);
  for (const entry of entries) {
    const value = entry.value.kind === "null"
      ? ""
      : r.string(entry.value, childPath(path, entry.key));
    if (value !== undefined) meta[entry.key] = value;
  }
  return meta;
}

function readPoolDiscovery(
  r: Reader,
  node: Node | undefined,
  path: string,
  refs: ProviderRef[],
): PoolDiscoveryConfig | null {
  const obj = r.object(node, path, ["provider", "mode"]);
  if (obj === undefined) return null;
  const provider = r.text(obj, "provider");
  const modes = ["union", "prefer"] as const;
  const mode = r.choice(obj.get("mode"), obj.at("mode"), "discovery mode", modes, "union");
  if (provider === undefined) return { provider: "", mode: mode ?? "union" };
  const position = obj.get("provider")?.position ?? obj.node.position;
  refs.push({ provider, path: obj.at("provider"), position });
  return { provider, mode: mode ?? "union" };
}

function readFallbacks(
  r: Reader,
  node: Node | undefined,
  path: string,
  pool: { strategy: StrategyName | undefined; key: string },
): FallbackConfig[] {
  return (r.list(node, path) ?? []).flatMap((item, i) => {
    const obj = r.item(item, indexPath(path, i), FALLBACK_KEYS);
    return obj === undefined ? [] : [readFallback(r, obj, pool)];
  });
}

function readFallback(
  r: Reader,
  obj: Obj,
  pool: { strategy: StrategyName | undefined; key: string },
): FallbackConfig {
  const strategy = readStrategy(r, obj.get("strategy"), obj.at("strategy"));
  const key = r.string(obj.get("key"), obj.at("key"))?.trim();
  // Hyrouter merges a fallback over its pool; the merged strategy must have a key.
  const overrides = strategy !== undefined || key !== undefined;
  if (overrides && needsKey(strategy ?? pool.strategy) && (key ?? pool.key) === "") {
    missingKey(r, obj, strategy ?? pool.strategy);
  }
  const fallback: {
    -readonly [K in keyof FallbackConfig]: FallbackConfig[K];
  } = {};
  if (strategy !== undefined) fallback.strategy = strategy;
  if (key !== undefined) fallback.key = key;
  const sample = r.int(obj.get("sample"), obj.at("sample"));
  if (sample !== undefined) fallback.sample = sample;
  const sort = readSortKeys(r, obj.get("sort"), obj.at("sort"));
  if (sort !== undefined) fallback.sort = sort;
  const limit = r.int(obj.get("limit"), obj.at("limit"));
  if (limit !== undefined) fallback.limit = limit;
  const filters = readFilters(r, obj.get("filters"), obj.at("filters"));
  if (filters !== undefined) fallback.filters = filters;
  return fallback;
}
