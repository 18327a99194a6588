import type { Backend } from "../config/mod.ts";

/**
 * A source of discovered backends (DISCOVERY.md). Routing reads {@link snapshot} on every
 * decision, so it must return at once: providers keep an in-memory snapshot that their API
 * watches replace, and routing never waits on the API.
 */
export interface DiscoveryProvider {
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
  /**
   * Present on providers that hand out a backend per connection instead of a snapshot (agones
   * `mode: allocate`): routing awaits it for each connection of a pool that draws from the
   * provider. It must settle within its own bound (the allocation timeout).
   */
  readonly allocate?: () => Promise<Backend>;
  /** With `allocate`: the allocations made so far, by result (for `/metrics`). */
  readonly allocations?: () => AllocationCounts;
}

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
