import type { AgonesDiscoveryConfig, Backend } from "../config/mod.ts";
import { allocationBackend } from "./agones_backends.ts";
import type { GameServerStatus, ObjectMeta } from "./objects.ts";

/** Creates a GameServerAllocation in `namespace`; the API client implements it, tests fake it. */
export type CreateAllocation = (
  namespace: string,
  body: unknown,
  signal: AbortSignal,
) => Promise<{ readonly metadata?: ObjectMeta; readonly status?: GameServerStatus }>;

/** Clock of the allocation throttle (tests inject one). */
export interface AllocatorClock {
  /** Monotonic milliseconds. */
  now(): number;
  /** Resolves after `ms`, or rejects when `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

/** An allocation that failed or named no game server; routing turns it into `discovery_error`. */
export class AllocationError extends Error {
  /** Lets callers tell the failure apart without `instanceof`. */
  readonly code = "allocation";
  /** The message names the provider and what went wrong. */
  constructor(provider: string, detail: string, options?: ErrorOptions) {
    super(`discovery provider "${provider}": allocation failed: ${detail}`, options);
    this.name = "AllocationError";
  }
}

const realClock: AllocatorClock = {
  now: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const timer = setTimeout(() => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
    }),
};

/**
 * The `agones` provider in `allocate` mode: one GameServerAllocation per connection, in the
 * first configured namespace (default `default`), asking for the first configured state with
 * the selector's `key=value` labels as `required.matchLabels` (other selector forms cannot be
 * expressed there and are left out, as in the Go router). At most one allocation starts per
 * `allocate_min_interval`; callers queue for their slot (bounded by the caller's signal).
 */
export class AgonesAllocator {
  readonly #namespace: string;
  readonly #body: unknown;
  #nextSlot = -Infinity;

  /** `create` posts the allocation; `clock` paces them. */
  constructor(
    readonly name: string,
    readonly config: AgonesDiscoveryConfig,
    readonly create: CreateAllocation,
    readonly clock: AllocatorClock = realClock,
  ) {
    this.#namespace = config.namespaces[0] ?? "default";
    this.#body = allocationRequest(config);
  }

  /** Allocates one game server; rejects with {@link AllocationError} (or the signal's reason). */
  async allocate(signal: AbortSignal): Promise<Backend> {
    const wait = this.#reserveSlot();
    if (wait > 0) await this.clock.sleep(wait, signal);
    let created;
    try {
      created = await this.create(this.#namespace, this.#body, signal);
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      const why = err instanceof Error ? err.message : String(err);
      throw new AllocationError(this.name, why, { cause: err });
    }
    const backend = allocationBackend(created, this.#namespace, this.config);
    if (backend !== null) return backend;
    const state = created.status?.state ?? "no status";
    throw new AllocationError(this.name, `no game server allocated (${state})`);
  }

  /** Milliseconds until this caller's slot; the slot after it is reserved at once. */
  #reserveSlot(): number {
    const interval = this.config.allocateMinIntervalMs;
    if (interval <= 0) return 0;
    const now = this.clock.now();
    const slot = Math.max(now, this.#nextSlot);
    this.#nextSlot = slot + interval;
    return slot - now;
  }
}

/** The GameServerAllocation body this provider posts. */
export function allocationRequest(config: AgonesDiscoveryConfig): unknown {
  const matchLabels: Record<string, string> = {};
  for (const req of config.selector.labels) {
    if (req.op === "in" && req.values.length === 1) matchLabels[req.key] = req.values[0] ?? "";
  }
  return {
    apiVersion: "allocation.agones.dev/v1",
    kind: "GameServerAllocation",
    metadata: { generateName: "gatehouse-" },
    spec: { gameServerState: config.states[0] ?? "Ready", required: { matchLabels } },
  };
}
