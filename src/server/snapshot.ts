import type { Config } from "../config/mod.ts";
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
  readonly config: Config;
  readonly router: Router;
  readonly sealer: EnvelopeSealer;
  readonly messages: DisconnectTexts;
  readonly chain: PluginChain;
}

/** What building a snapshot needs besides the config. */
export interface SnapshotDeps {
  readonly logger: Logger;
  readonly transports: TransportFactory;
  readonly routerOptions?: RouterOptions;
  /** Gets this config's route and plugin series, and every plugin call. */
  readonly metrics?: Metrics;
  /** Plugins still running from the previous snapshot (on reload). */
  readonly reuse?: ReuseTransport;
}

/** Compiles routes, messages and the referral key of `config`, and loads its plugins. */
export async function buildSnapshot(config: Config, deps: SnapshotDeps): Promise<RuntimeSnapshot> {
  if (config.discovery.providers.length > 0) {
    // The config is parsed and validated (so `check` helps), but no provider can run yet.
    throw new Error(`${config.source}: discovery providers are not supported by this build yet`);
  }
  const router = compileRouter(config.routing, deps.routerOptions);
  const sealer = await createEnvelopeSealer(config.referral.keyId, config.referral.hmacSecret);
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
  return { config, router, sealer, messages: new DisconnectTexts(config.messages), chain };
}

/** The route labels the router reports (`routes[i]`, `default`), as the metrics label them. */
function routeLabels(config: Config): string[] {
  const labels = config.routing.routes.map((_, i) => `routes[${i}]`);
  if (config.routing.default !== null) labels.push("default");
  return labels;
}
