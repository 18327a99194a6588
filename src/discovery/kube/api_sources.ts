import type { CreateAllocation, SourceOpener } from "../provider.ts";
import { KubeClient } from "./client.ts";
import { informerSources } from "./informer_sources.ts";
import { type KubeConnection, loadKubeConnection } from "./kubeconfig.ts";
import { namespacedPath } from "./paths.ts";

const ALLOCATION_API = "/apis/allocation.agones.dev/v1";

/**
 * The default {@link SourceOpener} over the Kubernetes API: the kubeconfig's current context
 * (or the in-cluster service account), a {@link KubeClient}, one informer per collection.
 * `connect` resolves the connection (default {@link loadKubeConnection}).
 */
export function kubeApiSources(
  connect: (kubeconfig: string | null) => Promise<KubeConnection> = loadKubeConnection,
): SourceOpener {
  return async (kubeconfig, logger, options) => {
    const client = new KubeClient(await connect(kubeconfig), {
      insecureHttp: options?.insecureHttp === true,
    });
    return {
      ...(client.insecure === null ? {} : { insecure: client.insecure }),
      open: informerSources(client, logger),
      createAllocation: (namespace, body, signal) => {
        const path = namespacedPath(ALLOCATION_API, "gameserverallocations", namespace);
        // The answer is read through the optional, checked-where-read shapes of objects.ts.
        return client.post(path, body, signal) as ReturnType<CreateAllocation>;
      },
      close: () => client.close(),
    };
  };
}
