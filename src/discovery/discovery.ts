import type { Backend, DiscoveryProviderConfig } from "../config/mod.ts";
import type { Logger } from "../observability/mod.ts";
import { kubeApiSources } from "./kube/api_sources.ts";
import { PushedProvider } from "./plugin/provider.ts";
import type { AllocationCounts, DiscoveryProvider, SourceOpener, TargetFeed } from "./provider.ts";
import { type ApiProviderConfig, type ProviderHold, SharedProvider } from "./shared_provider.ts";

/** An allocating provider lists nothing: routing asks it per connection instead. */
const NOTHING_LISTED: readonly Backend[] = Object.freeze([]);

/** Why discovery could not start (`provider` names the provider): `connection`, no usable API access. */
export type DiscoveryErrorCode = "connection";

/** A provider could not be started; the message names it. */
export class DiscoveryError extends Error {
  /** Fixed, so logs and stack traces name the class. */
  override readonly name = "DiscoveryError";
  /** Why; see {@link DiscoveryErrorCode}. */
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
 * The running discovery providers of one config. Snapshot providers (kubernetes, agones
 * observe) keep their backends current from the API and routing reads
 * {@link Discovery.discovered} on every decision; agones allocate providers hand out one
 * backend per connection through {@link Discovery.allocator}.
 */
export class Discovery {
  readonly #held = new Map<
    string,
    { readonly shared: SharedProvider | null; readonly hold: ProviderHold }
  >();
  /** The `type: plugin` providers, fed once the plugin chain is loaded ({@link bindFeeds}). */
  readonly #pushed = new Map<string, PushedProvider>();
  readonly #reused: string[] = [];
  readonly #waiters = new Set<() => void>();
  readonly #wake = () => {
    for (const waiter of [...this.#waiters]) waiter();
  };
  #closed = false;

  private constructor() {}

  /**
   * Starts every provider of `providers` (nothing when empty). A provider whose settings (and
   * kubeconfig file contents) are the same as one of `options.previous` is shared with it
   * instead of started again. A provider whose API access cannot be set up lets go of those
   * already held and throws {@link DiscoveryError}.
   */
  static async start(
    providers: readonly DiscoveryProviderConfig[],
    logger: Logger,
    opener: SourceOpener = kubeApiSources(),
    options: DiscoveryStartOptions = {},
  ): Promise<Discovery> {
    const discovery = new Discovery();
    const readFile = options.readFile ?? Deno.readTextFile;
    try {
      for (const p of providers) {
        if (p.type === "plugin") {
          discovery.#addPushed(p.name, p.plugin.pluginName, p.plugin.routeId);
          continue;
        }
        const fingerprint = await providerFingerprint(p, readFile);
        const { previous } = options;
        const running = previous === undefined ? null : previous.#sharedWith(p.name, fingerprint);
        const shared = running ?? await openShared(p, fingerprint, opener, logger);
        if (running !== null) discovery.#reused.push(p.name);
        discovery.#held.set(p.name, { shared, hold: shared.hold(discovery.#wake) });
        // At every start and reload that keeps such a provider, not only when it connects.
        if (shared.insecure !== null) {
          logger.warn("discovery credentials over plain HTTP (insecure_http: true)", {
            provider: p.name,
            detail: shared.insecure,
          });
        }
      }
    } catch (err) {
      discovery.close();
      throw err;
    }
    return discovery;
  }

  /**
   * Connects each `type: plugin` provider to its process plugin's pushes: `feedOf(plugin)` is
   * that plugin's transport (null when it has none: the provider stays unsynced). Called once
   * the plugin chain of the same config has loaded.
   */
  bindFeeds(feedOf: (plugin: string) => TargetFeed | null): void {
    for (const provider of this.#pushed.values()) {
      const feed = feedOf(provider.plugin);
      if (feed !== null) provider.bind(feed);
    }
  }

  /** Pushes of `type: plugin` provider `name` so far and the last one's time, else `null`. */
  pushes(name: string): { readonly count: number; readonly lastAtMs: number | null } | null {
    return this.#pushed.get(name)?.pushes() ?? null;
  }

  #addPushed(name: string, plugin: string, routeId: string): void {
    const provider = new PushedProvider(name, plugin, routeId, this.#wake);
    this.#pushed.set(name, provider);
    this.#held.set(name, { shared: null, hold: { provider, drop: () => provider.close() } });
  }

  /** The configured provider names, in config order. */
  get names(): readonly string[] {
    return [...this.#held.keys()];
  }

  /** The providers taken over from `previous` at start (unchanged settings), in config order. */
  get reused(): readonly string[] {
    return this.#reused;
  }

  /**
   * The backends provider `name` knows now (none for an allocating provider); throws for a name
   * this config does not have.
   */
  discovered(name: string): readonly Backend[] {
    const provider = this.#provider(name);
    return provider.kind === "snapshot" ? provider.snapshot() : NOTHING_LISTED;
  }

  /**
   * Provider `name`'s per-connection allocation (agones `mode: allocate`), or `null` for a
   * snapshot provider or a name this config does not have.
   */
  allocator(name: string): (() => Promise<Backend>) | null {
    const provider = this.#held.get(name)?.hold.provider;
    if (provider?.kind !== "allocating") return null;
    return () => provider.allocate();
  }

  /** Allocations of provider `name` so far, or `null` when it does not allocate. */
  allocations(name: string): AllocationCounts | null {
    const provider = this.#held.get(name)?.hold.provider;
    return provider?.kind === "allocating" ? provider.allocations() : null;
  }

  /**
   * Whether provider `name` has listed everything it watches once (an allocating provider
   * watches nothing, so it always has); throws for unknown names.
   */
  ready(name: string): boolean {
    return isReady(this.#provider(name));
  }

  /**
   * Watch restarts of provider `name` so far (0 for an allocating provider, which watches
   * nothing); throws for unknown names.
   */
  watchRestarts(name: string): number {
    const provider = this.#provider(name);
    return provider.kind === "snapshot" ? provider.watchRestarts() : 0;
  }

  /**
   * Whether every provider that lists from an API is ready (trivially when there are none).
   * `type: plugin` providers are left out: they sync when their plugin pushes, which it can only
   * do once the plugin chain, loaded after discovery starts, is up; `ready(name)` reports them.
   */
  allReady(): boolean {
    return [...this.#held.entries()].every(([name, { hold }]) =>
      this.#pushed.has(name) || isReady(hold.provider)
    );
  }

  /** Resolves `true` once {@link allReady}, or `false` after `ms` (or on close). */
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

  /**
   * Lets go of every provider: those no other config holds stop their watches and release
   * their API clients. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const { hold } of this.#held.values()) hold.drop();
    this.#wake();
  }

  /** The running provider `name` if it runs with `fingerprint` and is still held. */
  #sharedWith(name: string, fingerprint: string): SharedProvider | null {
    const shared = this.#held.get(name)?.shared;
    return shared != null && shared.held && shared.fingerprint === fingerprint ? shared : null;
  }

  #provider(name: string): DiscoveryProvider {
    const provider = this.#held.get(name)?.hold.provider;
    if (provider === undefined) throw new Error(`no discovery provider named "${name}"`);
    return provider;
  }
}

function isReady(provider: DiscoveryProvider): boolean {
  return provider.kind === "allocating" || provider.ready();
}

/** What `Discovery.start` takes besides the providers (all optional). */
export interface DiscoveryStartOptions {
  /** The running config's discovery (on reload): unchanged providers are taken over from it. */
  readonly previous?: Discovery;
  /** Reads a kubeconfig file for the reuse check; default `Deno.readTextFile`. */
  readonly readFile?: (path: string) => Promise<string>;
}

async function openShared(
  p: ApiProviderConfig,
  fingerprint: string,
  opener: SourceOpener,
  logger: Logger,
): Promise<SharedProvider> {
  try {
    return await SharedProvider.open(p, fingerprint, opener, logger);
  } catch (err) {
    throw new DiscoveryError("connection", p.name, err instanceof Error ? err.message : `${err}`);
  }
}

/**
 * A provider's settings as a comparable string: the parsed config plus the kubeconfig file's
 * contents (new credentials in the same file are a change). An unreadable kubeconfig gives a
 * fingerprint nothing matches, so the provider is started anew and reports the error itself.
 */
async function providerFingerprint(
  p: ApiProviderConfig,
  readFile: (path: string) => Promise<string>,
): Promise<string> {
  const kubeconfig = p.type === "kubernetes" ? p.kubernetes.kubeconfig : p.agones.kubeconfig;
  let contents = "";
  if (kubeconfig !== null) {
    try {
      contents = await readFile(kubeconfig);
    } catch {
      contents = `unreadable ${crypto.randomUUID()}`;
    }
  }
  return `${JSON.stringify(p)}\n${contents}`;
}
