import type { Config } from "../config/mod.ts";
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
}

/** Compiles routes, messages and the referral key of `config`. */
export async function buildSnapshot(
  config: Config,
  routerOptions: RouterOptions = {},
): Promise<RuntimeSnapshot> {
  return {
    config,
    router: compileRouter(config.routing, routerOptions),
    sealer: await createEnvelopeSealer(config.referral.keyId, config.referral.hmacSecret),
    messages: new DisconnectTexts(config.messages),
  };
}
