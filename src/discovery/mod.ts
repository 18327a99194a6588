/**
 * Discovery: turning the fleet's Kubernetes and Agones objects into backends. The mapping is
 * pure — objects in, backends out — and tested on real object shapes; providers keep a snapshot
 * rebuilt from watched collections (`SourceFactory`) so routing never waits on the API. The API
 * access layer is a small Kubernetes client over `fetch` and a list-then-watch informer.
 *
 * @module
 */

export {
  /** The backend a created GameServerAllocation names, or `null`. */
  allocationBackend,
  /** The backend an observed Agones GameServer gives, or `null` when it is filtered out. */
  gameServerBackend,
} from "./agones_backends.ts";
export {
  /** The backends one EndpointSlice gives (one per ready endpoint address). */
  endpointSliceBackends,
  /** The backend a Pod gives, or `null` when it is filtered out. */
  podBackend,
  /** The label EndpointSlices carry naming their Service. */
  SERVICE_NAME_LABEL,
} from "./kubernetes_backends.ts";
/** The provider interface routing reads, and the watched-collection interface providers use. */
export type {
  AllocationCounts,
  DiscoveryProvider,
  ResourceSource,
  SourceFactory,
  WatchRequest,
} from "./provider.ts";
export {
  /** The running providers of one config; routing reads `discovered(name)`. */
  Discovery,
  /** A provider could not be started (`code`: connection). */
  DiscoveryError,
  /** The default source opener: kubeconfig or in-cluster → KubeClient → informers. */
  kubeApiSources,
} from "./discovery.ts";
export type {
  DiscoveryErrorCode,
  DiscoveryStartOptions,
  OpenedSources,
  SourceOpener,
  SourceOptions,
} from "./discovery.ts";
/** What a provider's API access needs from the sandbox (net, read, env), for `start`. */
export { kubeAccess } from "./kube_access.ts";
export type { KubeAccess, KubeAccessDeps, KubeNetTarget } from "./kube_access.ts";
/** Watched collections over the Kubernetes API (one informer each), for the providers. */
export { informerSources } from "./informer_sources.ts";
/** The `kubernetes` provider (pods and endpointslices). */
export { collectionPaths, KubernetesProvider } from "./kubernetes_provider.ts";
/** The `agones` provider in `observe` mode. */
export { AgonesObserver } from "./agones_observer.ts";
/** The `agones` provider in `allocate` mode: one GameServerAllocation per connection. */
export {
  AgonesAllocator,
  ALLOCATION_TIMEOUT_MS,
  AllocationError,
  allocationRequest,
  type AllocatorClock,
  type AllocatorOptions,
  type CreateAllocation,
} from "./agones_allocator.ts";
/** Pool settings that can leave an allocated game server unused (logged at load). */
export { allocationWarnings } from "./allocate_warnings.ts";
/** Kubernetes label-selector and annotation-selector matching. */
export { matchesLabels, matchesSelector } from "./selector.ts";
/** The object shapes read from the Kubernetes and Agones APIs. */
export type { EndpointSlice, GameServer, GameServerStatus, ObjectMeta, Pod } from "./objects.ts";
export {
  /** A kubeconfig or the in-cluster environment cannot be used (`code` names why). */
  KubeConfigError,
  /** The connection for a kubeconfig file's current context, or the in-cluster service account. */
  loadKubeConnection,
  /** Where the service-account token, CA and namespace are mounted in a pod. */
  SERVICE_ACCOUNT_DIR,
} from "./kubeconfig.ts";
export type {
  KubeConfigErrorCode,
  KubeConnection,
  KubeConnectionDeps,
  KubeEnv,
  KubeFs,
} from "./kubeconfig.ts";
export {
  /** A failed Kubernetes API request (`code` status / network / parse / token). */
  KubeApiError,
  /** A minimal Kubernetes API client (a configured CA is the only one trusted): GET/POST, watch. */
  KubeClient,
} from "./kube_client.ts";
export type {
  KubeApiErrorCode,
  KubeClientDeps,
  KubeFetch,
  KubeQuery,
  KubeRequestInit,
  TlsPem,
} from "./kube_client.ts";
export {
  /** A configured CA bundle that holds no usable certificate. */
  CaBundleError,
  /** A parsed CA bundle and the check of a server's certificate chain against it alone. */
  PinnedCa,
} from "./kube_trust.ts";
export {
  /** A connection refused because the server's certificate is not from the configured CA. */
  PinnedTlsError,
} from "./kube_pinned.ts";
export {
  /** List-then-watch of one collection into an in-memory map, with re-list and backoff. */
  Informer,
} from "./informer.ts";
export type { BackoffOptions, InformerOptions, KubeObject } from "./informer.ts";
