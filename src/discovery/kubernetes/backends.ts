import type {
  Backend,
  DiscoveryPortConfig,
  KubernetesDiscoveryConfig,
  KubernetesResourceConfig,
} from "../../config/mod.ts";
import { backend, copySelected, objectMeta, validPort, weightOf } from "../backend_meta.ts";
import type { EndpointSlice, Pod } from "../kube/objects.ts";
import { matchesSelector } from "../kube/selector.ts";

/** The label EndpointSlices carry naming their Service. */
export const SERVICE_NAME_LABEL = "kubernetes.io/service-name";

/**
 * The backend a Pod gives under one `pods` resource, or `null` when it is filtered out: no pod
 * IP, phase or readiness not as required, selector not matched, or no port found.
 */
export function podBackend(
  pod: Pod,
  resource: Extract<KubernetesResourceConfig, { kind: "pods" }>,
  config: KubernetesDiscoveryConfig,
): Backend | null {
  const host = pod.status?.podIP ?? "";
  if (host === "" || !podPasses(pod, config.filters)) return null;
  if (!matchesSelector(resource.selector, pod.metadata?.labels, pod.metadata?.annotations)) {
    return null;
  }
  const port = podPort(pod, resource.port);
  if (port === null) return null;
  const meta = objectMeta(pod.metadata, pod.spec?.nodeName ?? "");
  copySelected(meta, pod.metadata, config.metadata);
  return backend(host, port, weightOf(pod.metadata), meta);
}

function podPasses(pod: Pod, filters: KubernetesDiscoveryConfig["filters"]): boolean {
  const phase = (pod.status?.phase ?? "").toLowerCase();
  if (filters.requirePodPhase.length > 0) {
    if (!filters.requirePodPhase.some((p) => p.toLowerCase() === phase)) return false;
  }
  if (!filters.requirePodReady) return true;
  const ready = pod.status?.conditions?.find((c) => c.type === "Ready");
  return ready?.status === "True";
}

/**
 * `container_port`, else `number`, else the container port with the configured name, else —
 * only when no name is configured — the first container port. A configured name that no
 * container has skips the pod: falling back to another port could send players to a
 * metrics or admin port.
 */
function podPort(pod: Pod, port: DiscoveryPortConfig): number | null {
  if (port.containerPort > 0) return port.containerPort;
  if (port.number > 0) return port.number;
  const ports = (pod.spec?.containers ?? []).flatMap((c) => c.ports ?? []);
  const found = port.name === "" ? ports[0] : ports.find((p) => p.name === port.name);
  const n = found?.containerPort;
  return typeof n === "number" && validPort(n) ? n : null;
}

/**
 * The backends one EndpointSlice gives under an `endpointslices` resource: one per endpoint
 * address, skipping endpoints whose `conditions.ready` is false when readiness is required.
 */
export function endpointSliceBackends(
  slice: EndpointSlice,
  resource: Extract<KubernetesResourceConfig, { kind: "endpointslices" }>,
  config: KubernetesDiscoveryConfig,
): Backend[] {
  const labels = slice.metadata?.labels;
  if (resource.service !== null) {
    if (labels?.[SERVICE_NAME_LABEL] !== resource.service.name) return [];
    const ns = resource.service.namespace;
    if (ns !== "" && slice.metadata?.namespace !== ns) return [];
  }
  if (!matchesSelector(resource.selector, labels, slice.metadata?.annotations)) return [];
  const port = slicePort(slice, resource.port);
  if (port === null) return [];
  const out: Backend[] = [];
  for (const endpoint of slice.endpoints ?? []) {
    if (config.filters.requireEndpointReady && endpoint.conditions?.ready === false) continue;
    for (const address of endpoint.addresses ?? []) {
      const meta = objectMeta(slice.metadata);
      copySelected(meta, slice.metadata, config.metadata);
      out.push(backend(address, port, weightOf(slice.metadata), meta));
    }
  }
  return out;
}

/** `number`, else the port with the configured name, else the first port (as the Go router). */
function slicePort(slice: EndpointSlice, port: DiscoveryPortConfig): number | null {
  if (port.number > 0) return port.number;
  const ports = (slice.ports ?? []).filter((p) => typeof p.port === "number" && validPort(p.port));
  const named = port.name === "" ? undefined : ports.find((p) => p.name === port.name);
  return (named ?? ports[0])?.port ?? null;
}
