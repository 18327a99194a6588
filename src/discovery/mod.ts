/**
 * Discovery: turning the fleet's Kubernetes and Agones objects into backends. The mapping is
 * pure — objects in, backends out — and tested on real object shapes; providers keep a snapshot
 * rebuilt from watched collections (`SourceFactory`, implemented by the API client) so routing
 * never waits on the API.
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
export type { DiscoveryProvider, ResourceSource, SourceFactory, WatchRequest } from "./provider.ts";
/** The `kubernetes` provider (pods and endpointslices). */
export { collectionPaths, KubernetesProvider } from "./kubernetes_provider.ts";
/** The `agones` provider in `observe` mode. */
export { AgonesObserver } from "./agones_observer.ts";
/** The `agones` provider in `allocate` mode: one GameServerAllocation per connection. */
export {
  AgonesAllocator,
  AllocationError,
  allocationRequest,
  type AllocatorClock,
  type CreateAllocation,
} from "./agones_allocator.ts";
/** Kubernetes label-selector and annotation-selector matching. */
export { matchesLabels, matchesSelector } from "./selector.ts";
/** The object shapes read from the Kubernetes and Agones APIs. */
export type { EndpointSlice, GameServer, GameServerStatus, ObjectMeta, Pod } from "./objects.ts";
