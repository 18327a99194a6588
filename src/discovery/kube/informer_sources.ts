import type { Logger } from "../../observability/mod.ts";
import type { ResourceSource, SourceFactory, WatchRequest } from "../provider.ts";
import type { KubeClient } from "./client.ts";
import { Informer, type KubeObject } from "./informer.ts";

/**
 * The {@link SourceFactory} over the Kubernetes API: each watched collection is an
 * {@link Informer} (list, then watch; re-list on 410; back off on errors) running until the
 * source is closed.
 */
export function informerSources(
  client: Pick<KubeClient, "get" | "watch">,
  logger: Logger,
): SourceFactory {
  return <T>(request: WatchRequest): ResourceSource<T> => {
    const stop = new AbortController();
    const informer = new Informer<KubeObject>({
      client,
      path: request.path,
      labelSelector: request.labelSelector === "" ? undefined : request.labelSelector,
      logger,
      onChange: request.onChange,
      signal: stop.signal,
    });
    // run() never rejects; it ends when the source is closed.
    void informer.run();
    return {
      get synced() {
        return informer.synced;
      },
      get restarts() {
        return informer.restarts;
      },
      // The objects are what the API served; providers read them through the shapes in
      // objects.ts, whose every field is optional and checked where read.
      items: () => informer.items() as unknown as T[],
      close: () => stop.abort(),
    };
  };
}
