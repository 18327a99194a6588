/**
 * The two small interfaces of discovery: a provider as `Discovery` reads it (a snapshot of
 * watched backends, or an allocation per connection), and the API access a provider reads from
 * (watched collections, GameServerAllocation creation).
 */
import type { Backend } from "../config/mod.ts";
import type { Logger } from "../observability/mod.ts";
import type { GameServerStatus, ObjectMeta } from "./kube/objects.ts";

/**
 * A provider whose backends are watched (kubernetes, agones `mode: observe`; docs/discovery.md).
 * Routing reads {@link snapshot} on every decision, so it must return at once: the provider
 * keeps an in-memory snapshot that its API watches replace, and routing never waits on the API.
 */
export interface SnapshotProvider {
  /** Tells it apart from an {@link AllocatingProvider}. */
  readonly kind: "snapshot";
  /** The provider's configured name (`pool.discovery.provider` refers to it). */
  readonly name: string;
  /** The backends known now; empty before the first list completes. */
  snapshot(): readonly Backend[];
  /** Whether every watched resource has been listed at least once (for `/readyz`). */
  ready(): boolean;
  /** Watches restarted so far (resumed after a drop, or after a re-list), over all collections. */
  watchRestarts(): number;
  /** Stops the watches. */
  close(): void;
}

/**
 * A provider that hands out a backend per connection instead of a snapshot (agones
 * `mode: allocate`): routing awaits {@link allocate} for each connection of a pool that draws
 * from it. It watches nothing, so it has nothing to list before it is ready.
 */
export interface AllocatingProvider {
  /** Tells it apart from a {@link SnapshotProvider}. */
  readonly kind: "allocating";
  /** The provider's configured name (`pool.discovery.provider` refers to it). */
  readonly name: string;
  /** One backend for one connection; settles within its own bound (the allocation timeout). */
  allocate(): Promise<Backend>;
  /** The allocations made so far, by result (for `/metrics`). */
  allocations(): AllocationCounts;
  /** Stops what it runs (allocations in flight finish within their bound). */
  close(): void;
}

/**
 * Backend lists a process plugin pushes (`set_targets`), by target set id (`route_id` or
 * `action`): what a `type: plugin` provider reads. The plugin's transport implements it.
 */
export interface TargetFeed {
  /** The last list pushed for `routeId`, or `null` before the first push. Returns at once. */
  targets(routeId: string): readonly Backend[] | null;
  /** Pushes for `routeId` so far and when the last arrived (`Date.now()` ms), for `/metrics`. */
  pushes(routeId: string): { readonly count: number; readonly lastAtMs: number | null };
  /** Calls `listener` after every push (any target set); returns the unsubscribe. */
  subscribe(listener: () => void): () => void;
}

/** A running provider of either kind. */
export type DiscoveryProvider = SnapshotProvider | AllocatingProvider;

/** Allocations a per-connection provider has made since it started. */
export interface AllocationCounts {
  /** Allocations that gave a game server. */
  readonly ok: number;
  /** Allocations that failed, timed out, were throttled or named no game server. */
  readonly failed: number;
}

/**
 * The objects of one watched resource, kept current by a list-then-watch loop. `items()` is the
 * last good state: it keeps serving while the API is unreachable.
 */
export interface ResourceSource<T> {
  /** Whether the first list has completed. */
  readonly synced: boolean;
  /** Watches restarted so far (resumed after a drop, or after a re-list). */
  readonly restarts: number;
  /** The current objects. */
  items(): readonly T[];
  /** Stops watching. */
  close(): void;
}

/** What a provider asks its API layer for: one resource collection to list and watch. */
export interface WatchRequest {
  /** API path of the collection, e.g. `/api/v1/namespaces/hytale/pods`. */
  readonly path: string;
  /** Kubernetes label selector sent as `labelSelector` (`""` = none). */
  readonly labelSelector: string;
  /** Called after each change to the collection has been applied. */
  readonly onChange: () => void;
}

/** Opens a watched collection; the API client implements it, tests fake it. */
export type SourceFactory = <T>(request: WatchRequest) => ResourceSource<T>;

/** Creates a GameServerAllocation in `namespace`; the API client implements it, tests fake it. */
export type CreateAllocation = (
  namespace: string,
  body: unknown,
  signal: AbortSignal,
) => Promise<{ readonly metadata?: ObjectMeta; readonly status?: GameServerStatus }>;

/** The watched collections one provider opens, and how to release what backs them. */
export interface OpenedSources {
  /** Opens one watched collection. */
  readonly open: SourceFactory;
  /** Creates a GameServerAllocation (agones `mode: allocate`). */
  readonly createAllocation: CreateAllocation;
  /** Releases the API client (called after the provider's watches are closed). */
  close(): void;
  /**
   * Set when the access is allowed only by `insecure_http` (credentials over plain HTTP): what
   * crosses the network in clear text. Logged at warn whenever a config with it is applied.
   */
  readonly insecure?: string;
}

/** A provider's settings for its API access besides the kubeconfig. */
export interface SourceOptions {
  /** `insecure_http`: credentials may go to a plain `http://` server. */
  readonly insecureHttp: boolean;
}

/**
 * Opens the API access for one provider's `kubeconfig` setting (injected by tests); it refuses
 * credentials over plain HTTP unless `options.insecureHttp`.
 */
export type SourceOpener = (
  kubeconfig: string | null,
  logger: Logger,
  options?: SourceOptions,
) => Promise<OpenedSources>;
