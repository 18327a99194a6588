/**
 * Discovery: turning the fleet's Kubernetes and Agones objects into backends. Providers keep a
 * snapshot rebuilt from watched collections so routing never waits on the API; an agones
 * `allocate` provider instead creates one GameServerAllocation per connection. The server runs
 * one {@link Discovery} per loaded config; the launcher asks {@link kubeAccess} what sandbox
 * grants a provider's API access needs.
 *
 * Inside: `kube/` is the Kubernetes API access (client, informer, kubeconfig, access grants,
 * pinned-CA trust, object shapes, selectors), `kubernetes/` and `agones/` the providers and
 * their pure object-to-backend mapping, `provider.ts` the interfaces between them.
 *
 * @module
 */

export {
  /** The running providers of one config; routing reads `discovered` and `allocator`. */
  Discovery,
  /** A provider could not be started (`code`: connection). */
  DiscoveryError,
} from "./discovery.ts";
export type {
  /** Why discovery could not start. */
  DiscoveryErrorCode,
  /** What `Discovery.start` takes besides the providers: the previous config's discovery. */
  DiscoveryStartOptions,
} from "./discovery.ts";
export type {
  /** Allocations an allocating provider has made, by result (for `/metrics`). */
  AllocationCounts,
  /** Creates a GameServerAllocation; part of {@link OpenedSources}. */
  CreateAllocation,
  /** The watched collections and allocation API one provider's access opens. */
  OpenedSources,
  /** One watched collection, kept current by a list-then-watch loop (tests fake it). */
  ResourceSource,
  /** Opens a watched collection; part of {@link OpenedSources}. */
  SourceFactory,
  /** Opens one provider's API access; `Discovery.start` takes one (tests inject fakes). */
  SourceOpener,
  /** A provider's settings for its API access besides the kubeconfig (`insecure_http`). */
  SourceOptions,
  /** Backend lists a process plugin pushes, by target set: what a `type: plugin` provider reads. */
  TargetFeed,
  /** One collection a provider asks to list and watch. */
  WatchRequest,
} from "./provider.ts";
export {
  /** The default {@link SourceOpener}: kubeconfig or in-cluster → API client → informers. */
  kubeApiSources,
} from "./kube/api_sources.ts";
export type {
  /** `status` of an Agones GameServer (and of a GameServerAllocation). */
  GameServerStatus,
  /** `metadata` of a Kubernetes object, as the API serves it. */
  ObjectMeta,
} from "./kube/objects.ts";
export {
  /** Pool settings that can leave an allocated game server unused (logged at load). */
  allocationWarnings,
} from "./agones/allocate_warnings.ts";
export {
  /** What a provider's API access needs from the sandbox (net, read, env), for `start`. */
  kubeAccess,
} from "./kube/access.ts";
export type {
  /** The sandbox grants one provider's API access needs. */
  KubeAccess,
  /** The file and environment reads {@link kubeAccess} makes (the launcher passes Deno's). */
  KubeAccessDeps,
  /** An API server address to grant, as configured. */
  KubeNetTarget,
} from "./kube/access.ts";
export {
  /**
   * One ConfigMap over the Kubernetes API client discovery uses: get, create, replace with
   * optimistic concurrency (`resourceVersion`, 409 → `"conflict"`) and a list-then-watch that
   * re-lists with back-off like the informers (the replicas' shared runtime state).
   */
  ConfigMapApi,
} from "./kube/config_map_api.ts";
export type {
  /** How {@link ConfigMapApi.open} connects (tests pass the connection and tuning). */
  ConfigMapApiOptions,
  /** A ConfigMap as {@link ConfigMapApi} reads it: name, resourceVersion, `data`. */
  ConfigMapObject,
} from "./kube/config_map_api.ts";
export {
  /** A kubeconfig or the in-cluster environment cannot be used (`code` names why). */
  KubeConfigError,
} from "./kube/kubeconfig.ts";
export type {
  /** Why a kubeconfig or the in-cluster environment cannot be used. */
  KubeConfigErrorCode,
  /** A resolved API connection: server, CA, credentials ({@link kubeApiSources} connects). */
  KubeConnection,
} from "./kube/kubeconfig.ts";
