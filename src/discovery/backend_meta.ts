import type { Backend, DiscoveryMetadataConfig } from "../config/mod.ts";
import type { ObjectMeta } from "./kube/objects.ts";

const WEIGHT_KEY = "hyrouter/weight";
// Go's strconv.Atoi: optional sign, decimal digits.
const GO_INT = /^[-+]?[0-9]+$/;

/** Meta every discovered backend carries: `k8s.namespace`, `k8s.name` (and `k8s.node`). */
export function objectMeta(meta: ObjectMeta | undefined, node = ""): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  if (meta?.namespace) out["k8s.namespace"] = meta.namespace;
  if (meta?.name) out["k8s.name"] = meta.name;
  if (node !== "") out["k8s.node"] = node;
  return out;
}

/** Copies the configured labels and annotations into meta as `label.X` / `annotation.X`. */
export function copySelected(
  out: Record<string, string>,
  meta: ObjectMeta | undefined,
  selection: DiscoveryMetadataConfig,
): void {
  for (const key of selection.includeLabels) {
    const value = lookup(meta?.labels, key);
    if (value !== undefined) out[`label.${key}`] = value;
  }
  for (const key of selection.includeAnnotations) {
    const value = lookup(meta?.annotations, key);
    if (value !== undefined) out[`annotation.${key}`] = value;
  }
}

/**
 * A backend's weight (docs/discovery.md): the annotation `hyrouter/weight`, else the label, else 1;
 * a value counts only when it is a positive integer (as Go's `strconv.Atoi` reads it).
 */
export function weightOf(meta: ObjectMeta | undefined): number {
  for (const source of [meta?.annotations, meta?.labels]) {
    const text = lookup(source, WEIGHT_KEY);
    if (text === undefined || !GO_INT.test(text)) continue;
    const n = Number(text);
    if (n > 0 && Number.isSafeInteger(n)) return n;
  }
  return 1;
}

/** A usable UDP port. */
export function validPort(n: number): boolean {
  return Number.isInteger(n) && n > 0 && n <= 65_535;
}

/** Assembles a backend; meta is frozen (routing caches parsed meta per backend object). */
export function backend(
  host: string,
  port: number,
  weight: number,
  meta: Record<string, string>,
): Backend {
  return Object.freeze({ host, port, weight, meta: Object.freeze(meta) });
}

function lookup(
  map: Readonly<Record<string, string>> | undefined,
  key: string,
): string | undefined {
  return map !== undefined && Object.hasOwn(map, key) && typeof map[key] === "string"
    ? map[key]
    : undefined;
}
