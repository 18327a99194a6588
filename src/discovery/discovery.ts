import type { Backend, DiscoveryProviderConfig } from "../config/mod.ts";
import type { Logger } from "../observability/mod.ts";
import { AgonesAllocator, type CreateAllocation } from "./agones_allocator.ts";
import { AgonesObserver } from "./agones_observer.ts";
import { informerSources } from "./informer_sources.ts";
import { KubeClient } from "./kube_client.ts";
import { type KubeConnection, loadKubeConnection } from "./kubeconfig.ts";
import { collectionPaths, KubernetesProvider } from "./kubernetes_provider.ts";
import type { DiscoveryProvider, SourceFactory } from "./provider.ts";

/** The watched collections one provider opens, and how to release what backs them. */
export interface OpenedSources {
  /** Opens one watched collection. */
  readonly open: SourceFactory;
  /** Creates a GameServerAllocation (agones `mode: allocate`). */
  readonly createAllocation: CreateAllocation;
  /** Releases the API client (called after the provider's watches are closed). */
  close(): void;
}

/** Opens the API access for one provider's `kubeconfig` setting (injected by tests). */
export type SourceOpener = (kubeconfig: string | null, logger: Logger) => Promise<OpenedSources>;

const ALLOCATION_API = "/apis/allocation.agones.dev/v1";

/** Why discovery could not start (`provider` names the provider). */
export type DiscoveryErrorCode = "connection";

/** A provider could not be started; the message names it. */
export class DiscoveryError extends Error {
  /** Fixed, so logs and stack traces name the class. */
  override readonly name = "DiscoveryError";
  /** `connection`: no usable API access. */
  readonly code: DiscoveryErrorCode;
  /** The provider's configured name. */
  readonly provider: string;
  /** `code`, the provider's name and the message. */
  constructor(code: DiscoveryErrorCode, provider: string, message: string) {
    super(`discovery provider "${provider}": ${message}`);
    this.code = code;
    this.provider = provider;
  }
}

/**
 * The default {@link SourceOpener} over the Kubernetes API: the kubeconfig's current context
 * (or the in-cluster service account), a {@link KubeClient}, one informer per collection.
 * `connect` resolves the connection (default {@link loadKubeConnection}).
 */
export function kubeApiSources(
  connect: (kubeconfig: string | null) => Promise<KubeConnection> = loadKubeConnection,
): SourceOpener {
  return async (kubeconfig, logger) => {
    const client = new KubeClient(await connect(kubeconfig));
    return {
      open: informerSources(client, logger),
      createAllocation: (namespace, body, signal) => {
        const [path] = collectionPaths(ALLOCATION_API, "gameserverallocations", [namespace]);
        // The answer is read through the optional, checked-where-read shapes of objects.ts.
        return client.post(path!, body, signal) as ReturnType<CreateAllocation>;
      },
      close: () => client.close(),
    };
  };
}

/**
 * The running discovery providers of one config. Snapshot providers (kubernetes, agones
 * observe) keep their backends current from the API and routing reads
 * {@link Discovery.discovered} on every decision; agones allocate providers hand out one
 * backend per connection through {@link Discovery.allocator}.
 */
export class Discovery {
  readonly #providers = new Map<string, DiscoveryProvider>();
  readonly #releases: Array<() => void> = [];
  readonly #waiters = new Set<() => void>();
  #closed = false;

  private constructor() {}

  /**
   * Starts every provider of `providers` (nothing when empty). A provider whose API access
   * cannot be set up closes those already started and throws {@link DiscoveryError}.
   */
  static async start(
    providers: readonly DiscoveryProviderConfig[],
    logger: Logger,
    opener: SourceOpener = kubeApiSources(),
  ): Promise<Discovery> {
    const discovery = new Discovery();
    try {
      for (const p of providers) await discovery.#add(p, logger, opener);
    } catch (err) {
      discovery.close();
      throw err;
    }
    return discovery;
  }

  /** The configured provider names, in config order. */
  get names(): readonly string[] {
    return [...this.#providers.keys()];
  }

  /** The backends provider `name` knows now; throws for a name this config does not have. */
  discovered(name: string): readonly Backend[] {
    return this.#provider(name).snapshot();
  }

  /**
   * Provider `name`'s per-connection allocation (agones `mode: allocate`), or `null` for a
   * snapshot provider or a name this config does not have.
   */
  allocator(name: string): (() => Promise<Backend>) | null {
    const provider = this.#providers.get(name);
    if (provider?.allocate === undefined) return null;
    const allocating = provider as Required<DiscoveryProvider>;
    return () => allocating.allocate();
  }

  /** Whether provider `name` has listed everything it watches once; throws for unknown names. */
  ready(name: string): boolean {
    return this.#provider(name).ready();
  }

  /** Watch restarts of provider `name` so far; throws for unknown names. */
  watchRestarts(name: string): number {
    return this.#provider(name).watchRestarts();
  }

  /** Whether every provider is ready (trivially when there are none). */
  allReady(): boolean {
    return [...this.#providers.values()].every((p) => p.ready());
  }

  /** Resolves `true` once every provider is ready, or `false` after `ms` (or on close). */
  waitReady(ms: number): Promise<boolean> {
    if (this.allReady()) return Promise.resolve(true);
    const { promise, resolve } = Promise.withResolvers<boolean>();
    const check = () => {
      if (!this.allReady() && !this.#closed) return;
      finish(this.allReady() && !this.#closed);
    };
    const timer = setTimeout(() => finish(false), ms);
    const finish = (ok: boolean) => {
      clearTimeout(timer);
      this.#waiters.delete(check);
      resolve(ok);
    };
    this.#waiters.add(check);
    return promise;
  }

  /** Stops every watch and releases the API clients. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const p of this.#providers.values()) p.close();
    for (const release of this.#releases) release();
    for (const waiter of [...this.#waiters]) waiter();
  }

  async #add(p: DiscoveryProviderConfig, logger: Logger, opener: SourceOpener): Promise<void> {
    const settings = p.type === "kubernetes" ? p.kubernetes : p.agones;
    let sources: OpenedSources;
    try {
      sources = await opener(settings.kubeconfig, logger.with({ provider: p.name }));
    } catch (err) {
      throw new DiscoveryError("connection", p.name, err instanceof Error ? err.message : `${err}`);
    }
    this.#releases.push(() => sources.close());
    // Every change may complete the first sync: wake the waiters.
    const open: SourceFactory = (request) =>
      sources.open({ ...request, onChange: () => (request.onChange(), this.#wake()) });
    const provider = p.type === "kubernetes"
      ? new KubernetesProvider(p.name, p.kubernetes, open)
      : p.agones.mode === "allocate"
      ? new AgonesAllocator(p.name, p.agones, sources.createAllocation)
      : new AgonesObserver(p.name, p.agones, open);
    this.#providers.set(p.name, provider);
  }

  #wake(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }

  #provider(name: string): DiscoveryProvider {
    const provider = this.#providers.get(name);
    if (provider === undefined) throw new Error(`no discovery provider named "${name}"`);
    return provider;
  }
}
