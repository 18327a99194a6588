/**
 * Discovery: turning the fleet's Kubernetes and Agones objects into backends. This part is
 * pure — objects in, backends out — so it is tested on real object shapes; the API watch that
 * feeds it comes next (see the README's discovery section).
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
/** Kubernetes label-selector and annotation-selector matching. */
export { matchesLabels, matchesSelector } from "./selector.ts";
/** The object shapes read from the Kubernetes and Agones APIs. */
export type { EndpointSlice, GameServer, GameServerStatus, ObjectMeta, Pod } from "./objects.ts";
