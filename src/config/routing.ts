import { indexPath, type Obj, type Reader } from "./fields.ts";
import { canonicalHost, validatePattern } from "./host_pattern.ts";
import type { Node } from "./nodes.ts";
import { type ProviderRef, readPool } from "./pool.ts";
import type { RouteConfig, RoutingConfig } from "./types.ts";

/**
 * Reads the `routing` section: an optional `default` pool and ordered `routes`. Provider names
 * used by pools are appended to `refs` for the caller to check.
 */
export function readRouting(
  r: Reader,
  node: Node | undefined,
  path: string,
  refs: ProviderRef[],
): RoutingConfig {
  const obj = r.object(node, path, ["default", "routes"]);
  if (obj === undefined) return { default: null, routes: [] };
  const defaultPool = readPool(r, obj.get("default"), obj.at("default"), refs) ?? null;
  const routesPath = obj.at("routes");
  const routes = (r.list(obj.get("routes"), routesPath) ?? []).flatMap((item, i) => {
    const route = readRoute(r, r.item(item, indexPath(routesPath, i), ["match", "pool"]), refs);
    return route === undefined ? [] : [route];
  });
  return { default: defaultPool, routes };
}

function readRoute(r: Reader, obj: Obj | undefined, refs: ProviderRef[]): RouteConfig | undefined {
  if (obj === undefined) return undefined;
  const hostnames = readMatch(r, obj);
  const pool = readPool(r, r.required(obj, "pool"), obj.at("pool"), refs);
  return hostnames === undefined || pool === undefined ? undefined : { hostnames, pool };
}

/**
 * The route's patterns, normalised. As in Hyrouter, a non-empty `hostnames` list wins and
 * `hostname` is used only without one; `hostname: ""` counts as unset.
 */
function readMatch(r: Reader, route: Obj): string[] | undefined {
  const obj = r.object(r.required(route, "match"), route.at("match"), ["hostname", "hostnames"]);
  if (obj === undefined) return undefined;
  const singleNode = obj.get("hostname");
  const single = singleNode === undefined || singleNode.kind === "null" ||
      (singleNode.kind === "scalar" && singleNode.text === "")
    ? undefined
    : readPattern(r, singleNode, obj.at("hostname"));
  const listNode = obj.get("hostnames");
  const items = r.list(listNode, obj.at("hostnames"));
  if (items === undefined && listNode !== undefined && listNode.kind !== "null") return undefined;
  const list = (items ?? []).map((item, i) =>
    readPattern(r, item, indexPath(obj.at("hostnames"), i))
  );
  if (single === null || list.includes(null)) return undefined;
  const chosen = list.length > 0 ? list : single === undefined ? [] : [single];
  if (chosen.length > 0) return chosen as string[];
  return r.report("required", obj.path, obj.node.position, "a route needs hostname or hostnames");
}

/** One pattern, normalised and checked; `null` when invalid (already reported). */
function readPattern(r: Reader, node: Node, path: string): string | null {
  if (node.kind === "null") return r.typeError(node, path, "a string") ?? null;
  const raw = r.string(node, path);
  if (raw === undefined) return null;
  const pattern = canonicalHost(raw);
  const problem = pattern === "" ? "hostname pattern must not be empty" : validatePattern(pattern);
  if (problem === null) return pattern;
  r.report("invalid", path, node.position, problem);
  return null;
}
