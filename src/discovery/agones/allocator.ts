import type { AgonesDiscoveryConfig, Backend } from "../../config/mod.ts";
import type { AllocatingProvider, AllocationCounts, CreateAllocation } from "../provider.ts";
import { allocationBackend } from "./backends.ts";

/**
 * Bound on each part of one allocation: the wait for its `allocate_min_interval` slot, then the
 * API call (the plugins' default per-call deadline, since a connection waits on it the same
 * way). The call gets the whole bound after the wait: cutting it short would abandon requests
 * the API may already have served, leaving a game server allocated to nobody.
 */
export const ALLOCATION_TIMEOUT_MS = 1_000;

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

/** The slot wait's signal when the caller gives none. */
const NEVER_ABORTED = new AbortController().signal;

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

/** What an {@link AgonesAllocator} takes besides its config (all optional). */
export interface AllocatorOptions {
  /** Paces the allocations (tests inject one); default: `performance.now` and timers. */
  readonly clock?: AllocatorClock;
  /** Bound on the slot wait and on the API call; default {@link ALLOCATION_TIMEOUT_MS}. */
  readonly timeoutMs?: number;
}

/**
 * The `agones` provider in `allocate` mode: one GameServerAllocation per connection, in the
 * first configured namespace (default `default`), asking for the first configured state with
 * the label selector as `required` (see {@link allocationRequest}). At most one allocation
 * starts per `allocate_min_interval`; callers queue for their slot. The queue wait and the API
 * call are each bounded by the timeout; a caller whose slot is beyond it is refused at once
 * without taking the slot, so a burst cannot push every later player's slot out of reach.
 *
 * It keeps no snapshot: routing calls {@link allocate} for each connection of a pool that draws
 * from it.
 */
export class AgonesAllocator implements AllocatingProvider {
  readonly kind = "allocating";
  readonly #namespace: string;
  readonly #body: unknown;
  readonly #clock: AllocatorClock;
  readonly #timeoutMs: number;
  #nextSlot = -Infinity;
  #ok = 0;
  #failed = 0;

  /** `create` posts the allocation. */
  constructor(
    readonly name: string,
    readonly config: AgonesDiscoveryConfig,
    readonly create: CreateAllocation,
    options: AllocatorOptions = {},
  ) {
    this.#namespace = config.namespaces[0] ?? "default";
    this.#body = allocationRequest(config);
    this.#clock = options.clock ?? realClock;
    this.#timeoutMs = options.timeoutMs ?? ALLOCATION_TIMEOUT_MS;
  }

  /** Allocations in flight finish (bounded by the timeout); nothing else to stop. */
  close(): void {}

  /** Allocations so far, by result. */
  allocations(): AllocationCounts {
    return { ok: this.#ok, failed: this.#failed };
  }

  /**
   * Allocates one game server; rejects with {@link AllocationError} when the API fails, names
   * no game server, or no answer comes within the timeout. `signal` (optional) abandons the
   * call early and rejects with its reason.
   */
  async allocate(signal?: AbortSignal): Promise<Backend> {
    try {
      const backend = await this.#allocate(signal);
      this.#ok++;
      return backend;
    } catch (err) {
      this.#failed++;
      throw err;
    }
  }

  async #allocate(signal: AbortSignal | undefined): Promise<Backend> {
    const wait = this.#reserveSlot();
    if (wait === null) {
      const interval = this.config.allocateMinIntervalMs;
      const detail = `throttled: no slot within ${this.#timeoutMs} ms ` +
        `(allocate_min_interval ${interval} ms)`;
      throw new AllocationError(this.name, detail);
    }
    if (wait > 0) await this.#clock.sleep(wait, signal ?? NEVER_ABORTED);
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const bound = signal === undefined ? timeout : AbortSignal.any([signal, timeout]);
    let created;
    try {
      created = await this.create(this.#namespace, this.#body, bound);
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      const why = timeout.aborted
        ? `no answer within ${this.#timeoutMs} ms (the API may still allocate a game server ` +
          `that nobody is sent to)`
        : err instanceof Error
        ? err.message
        : String(err);
      throw new AllocationError(this.name, why, { cause: err });
    }
    return this.#backendOf(created);
  }

  #backendOf(created: Awaited<ReturnType<CreateAllocation>>): Backend {
    let backend;
    try {
      backend = allocationBackend(created, this.#namespace, this.config);
    } catch (err) {
      // The API's answer is not the GameServerAllocation shape (a field of the wrong type).
      throw new AllocationError(this.name, `unreadable answer: ${err}`, { cause: err });
    }
    if (backend !== null) return backend;
    const state = typeof created?.status?.state === "string" ? created.status.state : "no status";
    throw new AllocationError(this.name, `no game server allocated (${state})`);
  }

  /**
   * Milliseconds until this caller's slot, reserving it (and so pushing the next slot one
   * interval on); `null`, reserving nothing, when the slot would come after the timeout.
   */
  #reserveSlot(): number | null {
    const interval = this.config.allocateMinIntervalMs;
    if (interval <= 0) return 0;
    const now = this.#clock.now();
    const slot = Math.max(now, this.#nextSlot);
    if (slot - now >= this.#timeoutMs) return null;
    this.#nextSlot = slot + interval;
    return slot - now;
  }
}

/**
 * The GameServerAllocation body this provider posts: `key=value` terms of the label selector
 * as `required.matchLabels` (docs/discovery.md), every other term (`in` with several values,
 * `notin`/`!=`, `key`, `!key`) as `required.matchExpressions`, so the allocation is never wider
 * than the selector. (The config refuses `>`/`<` terms in allocate mode.)
 */
export function allocationRequest(config: AgonesDiscoveryConfig): unknown {
  const matchLabels: Record<string, string> = {};
  const matchExpressions: { key: string; operator: string; values?: string[] }[] = [];
  for (const req of config.selector.labels) {
    if (req.op === "in" && req.values.length === 1 && !Object.hasOwn(matchLabels, req.key)) {
      matchLabels[req.key] = req.values[0] ?? "";
    } else if (req.op === "in" || req.op === "not_in") {
      const operator = req.op === "in" ? "In" : "NotIn";
      matchExpressions.push({ key: req.key, operator, values: [...req.values] });
    } else if (req.op === "exists" || req.op === "not_exists") {
      matchExpressions.push({
        key: req.key,
        operator: req.op === "exists" ? "Exists" : "DoesNotExist",
      });
    }
  }
  const required = matchExpressions.length > 0
    ? { matchLabels, matchExpressions }
    : { matchLabels };
  return {
    apiVersion: "allocation.agones.dev/v1",
    kind: "GameServerAllocation",
    metadata: { generateName: "gatehouse-" },
    spec: { gameServerState: config.states[0] ?? "Ready", required },
  };
}
