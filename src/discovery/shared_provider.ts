import type { DiscoveryProviderConfig } from "../config/mod.ts";
import type { Logger } from "../observability/mod.ts";
import { AgonesAllocator, type CreateAllocation } from "./agones_allocator.ts";
import { AgonesObserver } from "./agones_observer.ts";
import { KubernetesProvider } from "./kubernetes_provider.ts";
import type { DiscoveryProvider, SourceFactory } from "./provider.ts";

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
    config: DiscoveryProviderConfig,
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
  config: DiscoveryProviderConfig,
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
