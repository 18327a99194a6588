import type { PluginConfig } from "../config/mod.ts";
import type { Logger } from "../observability/mod.ts";
import type { TransportFactory } from "./chain.ts";
import { PluginError, type PluginTransport } from "./transport.ts";
import { createGrpcPlugin } from "./grpc/mod.ts";
import { loadWasmPlugin } from "./wasm/mod.ts";

/**
 * The transport for each configured plugin: WASM modules in the sandboxed worker host, gRPC
 * servers through the gRPC client. A plugin that cannot load rejects with a `PluginError`
 * naming it, and the router does not start.
 */
export const defaultTransportFactory: TransportFactory = (
  config: PluginConfig,
  logger: Logger,
): Promise<PluginTransport> => {
  switch (config.type) {
    case "wasm":
      return loadWasmPlugin({
        name: config.name,
        path: config.wasm.path,
        sha256: config.wasm.sha256,
        config: config.wasm.config,
        maxMemoryBytes: config.wasm.maxMemoryBytes,
        timeoutMs: config.timeoutMs,
        logger,
      });
    case "grpc":
      try {
        return Promise.resolve(createGrpcPlugin({
          name: config.name,
          address: config.grpc.address,
          timeoutMs: config.timeoutMs,
          logger,
        }));
      } catch (err) {
        return Promise.reject(
          err instanceof PluginError ? err : new PluginError(config.name, "load", String(err)),
        );
      }
  }
};
