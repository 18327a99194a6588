import { MAX_TIMER_MS, parseDuration } from "./duration.ts";
import { ConfigError, type Position } from "./errors.ts";
import { indexPath, type Obj, type Reader } from "./fields.ts";
import {
  parseAnnotationSelector,
  parseLabelSelector,
  type SelectorResult,
} from "./label_selector.ts";
import type { Node } from "./nodes.ts";
import { didYouMean } from "./suggest.ts";
import {
  type AgonesDiscoveryConfig,
  DISCOVERY_PROVIDER_TYPES,
  type DiscoveryMetadataConfig,
  type DiscoveryPortConfig,
  type DiscoveryProviderConfig,
  type KubernetesDiscoveryConfig,
  type KubernetesResourceConfig,
  type ObjectSelector,
  type PluginConfig,
  type PluginDiscoveryConfig,
} from "./types.ts";

const PROVIDER_KEYS = ["name", "type", "insecure_http", "kubernetes", "agones", "plugin"];
const KUBERNETES_KEYS = ["kubeconfig", "namespaces", "resources", "filters", "metadata"];
const RESOURCE_KEYS = ["kind", "service", "selector", "port"];
const FILTER_KEYS = ["require_pod_ready", "require_pod_phase", "require_endpoint_ready"];
const AGONES_KEYS = [
  "kubeconfig",
  "namespaces",
  "mode",
  "allocate_min_interval",
  "state",
  "selector",
  "metadata",
  "address",
  "port",
];
// Hyrouter accepts the singular spellings too.
const KINDS: Readonly<Record<string, KubernetesResourceConfig["kind"]>> = {
  pods: "pods",
  pod: "pods",
  endpointslices: "endpointslices",
  endpointslice: "endpointslices",
};
const NO_SELECTOR: ObjectSelector = { labels: [], labelText: "", annotations: [] };
const NO_PORT: DiscoveryPortConfig = { name: "", number: 0, containerPort: 0 };
const NO_METADATA: DiscoveryMetadataConfig = { includeLabels: [], includeAnnotations: [] };

/** `discovery:` as typed providers, plus their names for `pool.discovery.provider` checks. */
export interface DiscoverySection {
  readonly providers: readonly DiscoveryProviderConfig[];
}

/** Where a `type: plugin` provider names its plugin, checked once the plugins are read. */
export interface PluginProviderRef {
  /** `plugin.name` as written. */
  readonly plugin: string;
  readonly path: string;
  readonly position: Position;
}

/**
 * Reads `discovery.providers` (docs/discovery.md): unique names, `type` kubernetes, agones or
 * plugin with the matching settings block, `insecure_http` (a boolean, default false; not for
 * plugin providers), label selectors parsed (a syntax error points at the offending
 * character), durations in milliseconds. Each plugin provider's `plugin.name` is added to
 * `pluginRefs` for {@link checkPluginProviders}.
 */
export function readDiscovery(
  r: Reader,
  node: Node | undefined,
  pluginRefs: PluginProviderRef[],
): DiscoverySection {
  const obj = r.object(node, "discovery", ["providers"]);
  const items = obj ? r.list(obj.get("providers"), obj.at("providers")) ?? [] : [];
  const providers: DiscoveryProviderConfig[] = [];
  const seen = new Set<string>();
  items.forEach((item, i) => {
    const path = indexPath("discovery.providers", i);
    const p = r.item(item, path, PROVIDER_KEYS);
    const provider = p && readProvider(r, p, pluginRefs);
    if (!p || !provider) return;
    if (seen.has(provider.name)) {
      const detail = `provider name "${provider.name}" is used twice`;
      r.report("invalid", p.at("name"), p.get("name")?.position ?? p.node.position, detail);
      return;
    }
    seen.add(provider.name);
    providers.push(provider);
  });
  return { providers };
}

function readProvider(
  r: Reader,
  p: Obj,
  pluginRefs: PluginProviderRef[],
): DiscoveryProviderConfig | undefined {
  const name = r.text(p, "name");
  const type = r.choice(
    r.required(p, "type"),
    p.at("type"),
    "provider type",
    DISCOVERY_PROVIDER_TYPES,
  );
  for (const other of DISCOVERY_PROVIDER_TYPES) {
    const stray = type === undefined || other === type ? undefined : p.get(other);
    if (stray !== undefined && stray.kind !== "null") {
      r.report("invalid", p.at(other), p.keyPosition(other), `only used by ${other} providers`);
    }
  }
  // Credentials over plain HTTP are refused unless the provider says so (see KubeClient).
  const insecureHttp = r.bool(p.get("insecure_http"), p.at("insecure_http"));
  if (type === undefined) return undefined;
  const settings = r.required(p, type);
  if (type === "plugin") {
    if (insecureHttp !== undefined) {
      const detail = "only used by kubernetes and agones providers (a plugin provider has no API)";
      r.report("invalid", p.at("insecure_http"), p.keyPosition("insecure_http"), detail);
    }
    const plugin = name === undefined
      ? undefined
      : readPluginProvider(r, settings, p.at(type), name, pluginRefs);
    return name !== undefined && plugin ? { name, insecureHttp: false, type, plugin } : undefined;
  }
  if (type === "kubernetes") {
    const k = readKubernetes(r, settings, p.at(type));
    return name !== undefined && k
      ? { name, insecureHttp: insecureHttp ?? false, type, kubernetes: k }
      : undefined;
  }
  const a = readAgones(r, settings, p.at(type));
  return name !== undefined && a
    ? { name, insecureHttp: insecureHttp ?? false, type, agones: a }
    : undefined;
}

/** `plugin: { name, route_id }`; `route_id` defaults to the provider's own name. */
function readPluginProvider(
  r: Reader,
  node: Node | undefined,
  path: string,
  providerName: string,
  pluginRefs: PluginProviderRef[],
): PluginDiscoveryConfig | undefined {
  const obj = r.object(node, path, ["name", "route_id"]);
  const pluginName = obj && r.text(obj, "name");
  if (obj === undefined || pluginName === undefined) return undefined;
  const position = obj.get("name")?.position ?? obj.node.position;
  pluginRefs.push({ plugin: pluginName, path: obj.at("name"), position });
  const routeId = r.string(obj.get("route_id"), obj.at("route_id"))?.trim() ?? "";
  return { pluginName, routeId: routeId === "" ? providerName : routeId };
}

/**
 * Every `type: plugin` provider must name a configured `type: process` plugin: only those push
 * backends (`set_targets`).
 */
export function checkPluginProviders(
  r: Reader,
  refs: readonly PluginProviderRef[],
  plugins: readonly PluginConfig[],
): void {
  const processes = plugins.filter((p) => p.type === "process").map((p) => p.name);
  for (const ref of refs) {
    if (processes.includes(ref.plugin)) continue;
    const other = plugins.find((p) => p.name === ref.plugin);
    if (other !== undefined) {
      const detail = `plugin "${ref.plugin}" is a ${other.type} plugin; only process plugins ` +
        "push backends";
      r.report("reference", ref.path, ref.position, detail);
      continue;
    }
    const hint = processes.length === 0
      ? "no process plugins are configured"
      : didYouMean(ref.plugin, processes);
    r.report(
      "reference",
      ref.path,
      ref.position,
      `no process plugin is named "${ref.plugin}"`,
      hint,
    );
  }
}

function readKubernetes(
  r: Reader,
  node: Node | undefined,
  path: string,
): KubernetesDiscoveryConfig | undefined {
  const k = r.object(node, path, KUBERNETES_KEYS);
  if (k === undefined) return undefined;
  const resources = (r.list(k.get("resources"), k.at("resources")) ?? []).flatMap((item, i) => {
    const resource = readResource(r, item, indexPath(k.at("resources"), i));
    return resource ? [resource] : [];
  });
  const f = r.object(k.get("filters"), k.at("filters"), FILTER_KEYS);
  return {
    kubeconfig: readKubeconfig(r, k),
    namespaces: readNamespaces(r, k),
    resources,
    filters: {
      requirePodReady: (f && r.bool(f.get("require_pod_ready"), f.at("require_pod_ready"))) ??
        false,
      requirePodPhase: (f && r.strings(f.get("require_pod_phase"), f.at("require_pod_phase"))) ??
        [],
      requireEndpointReady:
        (f && r.bool(f.get("require_endpoint_ready"), f.at("require_endpoint_ready"))) ?? false,
    },
    metadata: readMetadata(r, k),
  };
}

function readResource(r: Reader, node: Node, path: string): KubernetesResourceConfig | undefined {
  const res = r.item(node, path, RESOURCE_KEYS);
  if (res === undefined) return undefined;
  const raw = r.string(r.required(res, "kind"), res.at("kind"));
  const kind = raw === undefined ? undefined : KINDS[raw.trim().toLowerCase()];
  if (raw !== undefined && kind === undefined) {
    const where = res.get("kind")?.position ?? res.node.position;
    r.report(
      "invalid",
      res.at("kind"),
      where,
      `unknown resource kind ${JSON.stringify(raw)}`,
      "expected one of: pods, endpointslices",
    );
  }
  const selector = readSelector(r, res.get("selector"), res.at("selector"));
  const port = readPort(r, res.get("port"), res.at("port"), kind === "pods");
  const serviceNode = res.get("service");
  if (kind === "pods") {
    if (serviceNode !== undefined && serviceNode.kind !== "null") {
      r.report(
        "invalid",
        res.at("service"),
        res.keyPosition("service"),
        "only used by endpointslices resources",
      );
    }
    return { kind, selector, port };
  }
  if (kind === undefined) return undefined;
  const s = r.object(serviceNode, res.at("service"), ["name", "namespace"]);
  const service = s
    ? {
      name: r.text(s, "name") ?? "",
      namespace: r.string(s.get("namespace"), s.at("namespace"))?.trim() ?? "",
    }
    : null;
  return { kind, selector, port, service };
}

function readSelector(r: Reader, node: Node | undefined, path: string): ObjectSelector {
  const s = r.object(node, path, ["labels", "annotations"]);
  if (s === undefined) return NO_SELECTOR;
  const labels = selectorText(r, s, "labels", parseLabelSelector);
  const annotations = selectorText(r, s, "annotations", parseAnnotationSelector);
  return {
    labels: labels?.requirements ?? [],
    labelText: labels?.text ?? "",
    annotations: annotations?.requirements ?? [],
  };
}

/** Parses one selector string, reporting a syntax error at the character it names. */
function selectorText<T>(
  r: Reader,
  s: Obj,
  key: string,
  parse: (text: string) => SelectorResult<T>,
): { readonly text: string; readonly requirements: readonly T[] } | undefined {
  const node = s.get(key);
  const raw = r.string(node, s.at(key));
  if (raw === undefined || node === undefined) return undefined;
  const text = raw.trim();
  const result = parse(text);
  if (result.ok) return { text, requirements: result.requirements };
  const offset = raw.indexOf(text) + result.problem.offset;
  const detail = `invalid ${key} selector: ${result.problem.detail}`;
  return r.report("invalid", s.at(key), positionInside(node, raw, offset), detail);
}

/**
 * Where character `offset` of a scalar's text is: exact for single-line plain scalars and
 * quoted strings without escapes before it; otherwise the scalar's own position.
 */
function positionInside(node: Node, text: string, offset: number): Position {
  if (node.kind !== "scalar" || text.includes("\n")) return node.position;
  return {
    line: node.position.line,
    column: node.position.column + (node.quoted ? 1 : 0) + offset,
  };
}

function readPort(
  r: Reader,
  node: Node | undefined,
  path: string,
  pods: boolean,
): DiscoveryPortConfig {
  const keys = pods ? ["name", "number", "container_port"] : ["name", "number"];
  const p = r.object(node, path, keys);
  if (p === undefined) return NO_PORT;
  return {
    name: r.string(p.get("name"), p.at("name"))?.trim() ?? "",
    number: r.int(p.get("number"), p.at("number"), 0, 65_535) ?? 0,
    containerPort: r.int(p.get("container_port"), p.at("container_port"), 0, 65_535) ?? 0,
  };
}

function readMetadata(r: Reader, parent: Obj): DiscoveryMetadataConfig {
  const m = r.object(parent.get("metadata"), parent.at("metadata"), [
    "include_labels",
    "include_annotations",
  ]);
  if (m === undefined) return NO_METADATA;
  return {
    includeLabels: r.strings(m.get("include_labels"), m.at("include_labels")) ?? [],
    includeAnnotations: r.strings(m.get("include_annotations"), m.at("include_annotations")) ??
      [],
  };
}

function readKubeconfig(r: Reader, parent: Obj): string | null {
  const path = r.string(parent.get("kubeconfig"), parent.at("kubeconfig"))?.trim() ?? "";
  return path === "" ? null : path;
}

function readNamespaces(r: Reader, parent: Obj): readonly string[] {
  return (r.strings(parent.get("namespaces"), parent.at("namespaces")) ?? []).map((n) => n.trim());
}

function readAgones(
  r: Reader,
  node: Node | undefined,
  path: string,
): AgonesDiscoveryConfig | undefined {
  const a = r.object(node, path, AGONES_KEYS);
  if (a === undefined) return undefined;
  const mode = r.choice(
    a.get("mode"),
    a.at("mode"),
    "agones mode",
    ["observe", "allocate"] as const,
    "observe",
  );
  const states = r.strings(a.get("state"), a.at("state"))?.map((s) => s.trim()) ?? [];
  const selector = readSelector(r, a.get("selector"), a.at("selector"));
  if (mode === "allocate") checkAllocatable(r, a, states[0] ?? "Ready", selector);
  return {
    kubeconfig: readKubeconfig(r, a),
    namespaces: readNamespaces(r, a),
    mode: mode ?? "observe",
    allocateMinIntervalMs: readInterval(r, a) ?? 0,
    states: states.length > 0 ? states : ["Ready"],
    selector,
    metadata: readMetadata(r, a),
    address: readAddress(r, a),
    port: readPort(r, a.get("port"), a.at("port"), false),
  };
}

/** The `spec.gameServerState` values a GameServerAllocation accepts (case-sensitive). */
const ALLOCATABLE_STATES = ["Ready", "Allocated"];

/**
 * Allocate mode sends the first state and the label selector to the Agones API: refuse what it
 * would reject at every connection (another state) or cannot express (`>`/`<` terms, which a
 * Kubernetes LabelSelector object has no operator for).
 */
function checkAllocatable(r: Reader, a: Obj, state: string, selector: ObjectSelector): void {
  if (!ALLOCATABLE_STATES.includes(state)) {
    const node = a.get("state");
    const detail = `allocate mode asks for GameServers in its first state, which must be one of ` +
      `${ALLOCATABLE_STATES.join(", ")} (got "${state}")`;
    r.report("invalid", a.at("state"), node?.position ?? null, detail);
  }
  for (const ordered of selector.labels) {
    if (ordered.op !== "gt" && ordered.op !== "lt") continue;
    const node = a.get("selector");
    const term = `${ordered.key}${ordered.op === "gt" ? ">" : "<"}${ordered.value}`;
    const detail = `allocate mode cannot send the term "${term}" to Agones ` +
      `(a GameServerAllocation selector has no ordering operators)`;
    r.report("invalid", `${a.at("selector")}.labels`, node?.position ?? null, detail);
    return;
  }
}

function readInterval(r: Reader, a: Obj): number | undefined {
  const key = "allocate_min_interval";
  const node = a.get(key);
  const text = r.string(node, a.at(key))?.trim();
  if (text === undefined || node === undefined || text === "") return undefined;
  try {
    const ms = parseDuration(text);
    if (ms <= MAX_TIMER_MS) return Math.max(ms, 0);
    return r.report("invalid", a.at(key), node.position, `must be at most ${MAX_TIMER_MS} ms`);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return r.report("invalid", a.at(key), node.position, e.message);
  }
}

function readAddress(r: Reader, a: Obj): AgonesDiscoveryConfig["address"] {
  const addr = r.object(a.get("address"), a.at("address"), ["source", "preference"]);
  if (addr === undefined) return { source: "address", preference: [] };
  const preference =
    r.strings(addr.get("preference"), addr.at("preference"))?.map((p) => p.trim()) ?? [];
  const sources = ["address", "addresses"] as const;
  // Unset source: a preference list implies `addresses` (as the Go router reads it).
  const blank = preference.length > 0 ? "addresses" : "address";
  const source = r.choice(addr.get("source"), addr.at("source"), "address source", sources, blank);
  return { source: source ?? blank, preference };
}
