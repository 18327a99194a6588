import type { Config } from "../config/mod.ts";
import { allocationWarnings, Discovery, type SourceOpener } from "../discovery/mod.ts";
import type { Logger, Metrics } from "../observability/mod.ts";
import {
  loadChain,
  type PluginChain,
  type ReuseTransport,
  type TransportFactory,
} from "../plugins/mod.ts";
import { createEnvelopeSealer, type EnvelopeSealer } from "../protocol/mod.ts";
import { compileRouter, type Router, type RouterOptions } from "../routing/mod.ts";
import { DisconnectTexts } from "./messages.ts";

/**
 * Everything one connection needs, built once per loaded config. A connection takes the
 * snapshot current when it starts and keeps it to the end, so a reload never changes the rules
 * under a connection in flight.
 */
export interface RuntimeSnapshot {
  /** The config it was built from. */
  readonly config: Config;
  /** The compiled routing table. */
  readonly router: Router;
  /** Seals referral content with the config's referral key. */
  readonly sealer: EnvelopeSealer;
  /** The player-facing Disconnect texts. */
  readonly messages: DisconnectTexts;
  /** The config's plugins, loaded. */
  readonly chain: PluginChain;
  /** This config's discovery providers (none when it has no `discovery.providers`). */
  readonly discovery: Discovery;
}

/**
 * How long building a snapshot waits for its discovery providers' first sync. At start the
 * router then serves anyway (`/readyz` says which provider is not synced); a reload whose new
 * providers do not sync in time is refused and the running config stays in force.
 */
export const DISCOVERY_SYNC_WAIT_MS = 5_000;

/** What building a snapshot needs besides the config. */
export interface SnapshotDeps {
  /** Gets load warnings and the plugins' logs. */
  readonly logger: Logger;
  /** Makes each plugin's transport (`defaultTransportFactory` outside tests). */
  readonly transports: TransportFactory;
  /** Randomness, clock and drains for the router (discovery is filled in). */
  readonly routerOptions?: RouterOptions;
  /** Gets this config's route and plugin series, and every plugin call. */
  readonly metrics?: Metrics;
  /** Plugins still running from the previous snapshot (on reload). */
  readonly reuse?: ReuseTransport;
  /** The running config's discovery (on reload): providers with unchanged settings are shared. */
  readonly previousDiscovery?: Discovery;
  /** API access for discovery providers (tests); default: kubeconfig / in-cluster. */
  readonly discoverySources?: SourceOpener;
  /** Refuse the snapshot when its providers have not synced within the wait (reloads). */
  readonly requireDiscoverySync?: boolean;
  /** Overrides {@link DISCOVERY_SYNC_WAIT_MS} (tests). */
  readonly discoveryWaitMs?: number;
}

/** Compiles routes, messages and the referral key of `config`, and loads its plugins. */
export async function buildSnapshot(config: Config, deps: SnapshotDeps): Promise<RuntimeSnapshot> {
  const discovery = await startDiscovery(config, deps);
  try {
    return await buildWith(config, deps, discovery);
  } catch (err) {
    discovery.close();
    throw err;
  }
}

/** Closes what a snapshot owns: its plugins and its discovery providers. */
export async function closeSnapshot(snapshot: RuntimeSnapshot): Promise<void> {
  snapshot.discovery.close();
  await snapshot.chain.close();
}

/** Starts `config`'s providers and waits (bounded) for their first sync. */
async function startDiscovery(config: Config, deps: SnapshotDeps): Promise<Discovery> {
  const { providers } = config.discovery;
  for (const warning of allocationWarnings(config)) deps.logger.warn("config warning", { warning });
  const previous = deps.previousDiscovery;
  const discovery = await Discovery.start(
    providers,
    deps.logger,
    deps.discoverySources,
    previous === undefined ? {} : { previous },
  );
  if (providers.length === 0) return discovery;
  const waitMs = deps.discoveryWaitMs ?? DISCOVERY_SYNC_WAIT_MS;
  if (await discovery.waitReady(waitMs)) return discovery;
  const pending = discovery.names.filter((name) => !discovery.ready(name)).join(",");
  if (deps.requireDiscoverySync) {
    discovery.close();
    throw new Error(`discovery providers not synced within ${waitMs} ms: ${pending}`);
  }
  deps.logger.warn("discovery providers not synced yet; serving anyway", {
    providers: pending,
    wait_ms: waitMs,
  });
  return discovery;
}

async function buildWith(
  config: Config,
  deps: SnapshotDeps,
  discovery: Discovery,
): Promise<RuntimeSnapshot> {
  const router = compileRouter(config.routing, {
    ...deps.routerOptions,
    discovered: (provider) => discovery.discovered(provider),
    allocator: (provider) => discovery.allocator(provider),
  });
  const sealer = createEnvelopeSealer(config.referral.keyId, config.referral.hmacSecret);
  const { metrics } = deps;
  metrics?.prepareRoutes(routeLabels(config));
  metrics?.preparePlugins(config.plugins.map((p) => p.name));
  const chain = await loadChain(
    config.plugins,
    deps.transports,
    deps.logger,
    metrics && ((plugin, ms, error) => metrics.pluginCall(plugin, ms, error?.kind ?? null)),
    deps.reuse,
  );
  const messages = new DisconnectTexts(config.messages);
  // `type: plugin` providers read their process plugin's pushes (transports that push expose
  // `targetFeed`).
  discovery.bindFeeds((plugin) =>
    chain.transports.find((t) => t.name === plugin)?.targetFeed ?? null
  );
  return { config, router, sealer, messages, chain, discovery };
}

/** The route labels the router reports (`routes[i]`, `default`), as the metrics label them. */
function routeLabels(config: Config): string[] {
  const labels = config.routing.routes.map((_, i) => `routes[${i}]`);
  if (config.routing.default !== null) labels.push("default");
  return labels;
}
