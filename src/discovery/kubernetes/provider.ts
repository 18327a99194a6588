import type { Backend, KubernetesDiscoveryConfig } from "../../config/mod.ts";
import type { EndpointSlice, Pod } from "../kube/objects.ts";
import { collectionPaths } from "../kube/paths.ts";
import type { ResourceSource, SnapshotProvider, SourceFactory } from "../provider.ts";
import { endpointSliceBackends, podBackend, SERVICE_NAME_LABEL } from "./backends.ts";

/** One watched collection and how its objects become backends. */
interface Feed {
  readonly source: ResourceSource<unknown>;
  readonly backends: (items: readonly unknown[]) => Backend[];
}

/**
 * The `kubernetes` provider: one list-then-watch per configured resource and namespace (all
 * namespaces when none are configured), label selectors sent to the API and checked again on
 * every object; the snapshot is rebuilt from every feed whenever one changes.
 */
export class KubernetesProvider implements SnapshotProvider {
  readonly kind = "snapshot";
  readonly name: string;
  readonly #feeds: Feed[] = [];
  #snapshot: readonly Backend[] = Object.freeze([]);

  /** Opens the watches through `open`; nothing is listed until the API answers. */
  constructor(name: string, config: KubernetesDiscoveryConfig, open: SourceFactory) {
    this.name = name;
    const onChange = () => this.#rebuild();
    for (const resource of config.resources) {
      if (resource.kind === "pods") {
        for (const path of collectionPaths("/api/v1", "pods", config.namespaces)) {
          const source = open<Pod>({ path, labelSelector: resource.selector.labelText, onChange });
          this.#feeds.push({
            source,
            backends: (items) =>
              (items as Pod[]).flatMap((pod) => podBackend(pod, resource, config) ?? []),
          });
        }
        continue;
      }
      const service = resource.service;
      const namespaces = service?.namespace ? [service.namespace] : config.namespaces;
      const labels = [
        ...(service ? [`${SERVICE_NAME_LABEL}=${service.name}`] : []),
        ...(resource.selector.labelText === "" ? [] : [resource.selector.labelText]),
      ].join(",");
      const group = "/apis/discovery.k8s.io/v1";
      for (const path of collectionPaths(group, "endpointslices", namespaces)) {
        const source = open<EndpointSlice>({ path, labelSelector: labels, onChange });
        this.#feeds.push({
          source,
          backends: (items) =>
            (items as EndpointSlice[]).flatMap((s) => endpointSliceBackends(s, resource, config)),
        });
      }
    }
  }

  /** The backends known now (frozen; replaced, never mutated). */
  snapshot(): readonly Backend[] {
    return this.#snapshot;
  }

  /** Whether every feed has listed once. */
  ready(): boolean {
    return this.#feeds.every((f) => f.source.synced);
  }

  /** Watch restarts over every feed. */
  watchRestarts(): number {
    return this.#feeds.reduce((sum, f) => sum + f.source.restarts, 0);
  }

  /** Stops every watch. */
  close(): void {
    for (const feed of this.#feeds) feed.source.close();
  }

  #rebuild(): void {
    this.#snapshot = Object.freeze(this.#feeds.flatMap((f) => f.backends(f.source.items())));
  }
}
