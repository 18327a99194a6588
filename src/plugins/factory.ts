import type { PluginConfig } from "../config/mod.ts";
import type { Logger } from "../observability/mod.ts";
import type { TransportFactory } from "./chain.ts";
import { PluginError, type PluginTransport } from "./transport.ts";

/**
 * The transport for each configured plugin type. The WASM host and the gRPC client are being
 * brought in; until a transport is wired here, a plugin of that type fails to load with a
 * clear error naming it, and the router does not start.
 */
export const defaultTransportFactory: TransportFactory = (
  config: PluginConfig,
  _logger: Logger,
): Promise<PluginTransport> => {
  return Promise.reject(
    new PluginError(
      config.name,
      "load",
      `${config.type} plugins are not available in this build yet`,
    ),
  );
};
