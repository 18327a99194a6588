import type { DiscoveryProviderConfig } from "../config/mod.ts";
import type { Logger } from "../observability/mod.ts";
import { AgonesAllocator } from "./agones/allocator.ts";
import { AgonesObserver } from "./agones/observer.ts";
import { KubernetesProvider } from "./kubernetes/provider.ts";
import type {
  CreateAllocation,
  DiscoveryProvider,
  SourceFactory,
  SourceOpener,
} from "./provider.ts";

/** A provider backed by a Kubernetes API (kubernetes, agones): what a {@link SharedProvider} runs. */
export type ApiProviderConfig = Extract<DiscoveryProviderConfig, { type: "kubernetes" | "agones" }>;

/** One holder's use of a {@link SharedProvider}. */
export interface ProviderHold {
  readonly provider: DiscoveryProvider;
  /** Lets go; the last holder to let go closes the provider and its API client. Idempotent. */
  drop(): void;
}

/**
 * A running provider with its API client, shared by the loaded configs that have it with the
 * same settings: a reload whose provider is unchanged keeps its watches (no re-list, no wait
 * for a first sync, the allocation throttle keeps its pace) instead of starting another. It is
 * closed when the last config holding it is retired.
 */
export class SharedProvider {
  /** The settings it runs with (see `providerFingerprint`); equal strings = reusable. */
  readonly fingerprint: string;
  /** What its API access sends in clear text under `insecure_http`, or `null`. */
  readonly insecure: string | null;
  readonly #provider: DiscoveryProvider;
  readonly #release: () => void;
  readonly #listeners = new Set<() => void>();
  #holders = 0;

  private constructor(
    fingerprint: string,
    create: (onChange: () => void) => DiscoveryProvider,
    release: () => void,
    insecure: string | null,
  ) {
    this.fingerprint = fingerprint;
    this.insecure = insecure;
    this.#release = release;
    this.#provider = create(() => {
      for (const listener of [...this.#listeners]) listener();
    });
  }

  /** Opens the API access of `config` through `opener` and starts the provider. */
  static async open(
    config: ApiProviderConfig,
    fingerprint: string,
    opener: SourceOpener,
    logger: Logger,
  ): Promise<SharedProvider> {
    const settings = config.type === "kubernetes" ? config.kubernetes : config.agones;
    const sources = await opener(settings.kubeconfig, logger.with({ provider: config.name }), {
      insecureHttp: config.insecureHttp,
    });
    const create = (onChange: () => void) => {
      // Every change may complete a first sync that some holder waits for.
      const open: SourceFactory = (request) =>
        sources.open({ ...request, onChange: () => (request.onChange(), onChange()) });
      return startProvider(config, open, sources.createAllocation);
    };
    return new SharedProvider(fingerprint, create, () => sources.close(), sources.insecure ?? null);
  }

  /** Whether some config still holds it. */
  get held(): boolean {
    return this.#holders > 0;
  }

  /** Takes a hold; `onChange` is called after every change to the watched objects. */
  hold(onChange: () => void): ProviderHold {
    this.#holders++;
    this.#listeners.add(onChange);
    let dropped = false;
    return {
      provider: this.#provider,
      drop: () => {
        if (dropped) return;
        dropped = true;
        this.#listeners.delete(onChange);
        if (--this.#holders > 0) return;
        this.#provider.close();
        this.#release();
      },
    };
  }
}

function startProvider(
  config: ApiProviderConfig,
  open: SourceFactory,
  createAllocation: CreateAllocation,
): DiscoveryProvider {
  if (config.type === "kubernetes") {
    return new KubernetesProvider(config.name, config.kubernetes, open);
  }
  if (config.agones.mode === "allocate") {
    return new AgonesAllocator(config.name, config.agones, createAllocation);
  }
  return new AgonesObserver(config.name, config.agones, open);
}
