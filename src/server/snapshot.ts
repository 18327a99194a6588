import type { Config } from "../config/mod.ts";
import type { Logger } from "../observability/mod.ts";
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
  /** Plugins still running from the previous snapshot (on reload). */
  readonly reuse?: ReuseTransport;
}

/** Compiles routes, messages and the referral key of `config`, and loads its plugins. */
export async function buildSnapshot(config: Config, deps: SnapshotDeps): Promise<RuntimeSnapshot> {
  const router = compileRouter(config.routing, deps.routerOptions);
  const sealer = await createEnvelopeSealer(config.referral.keyId, config.referral.hmacSecret);
  const chain = await loadChain(
    config.plugins,
    deps.transports,
    deps.logger,
    undefined,
    deps.reuse,
  );
  return { config, router, sealer, messages: new DisconnectTexts(config.messages), chain };
}
