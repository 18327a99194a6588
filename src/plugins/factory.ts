import type { PluginConfig } from "../config/mod.ts";
import type { Logger } from "../observability/mod.ts";
import type { TransportFactory } from "./chain.ts";
import { PluginError, type PluginTransport } from "./transport.ts";

/**
 * The transport for each configured plugin: WASM modules in the sandboxed worker host, gRPC
 * servers through the gRPC client, process plugins as supervised children. A plugin that
 * cannot load rejects with a `PluginError` naming it, and the router does not start.
 *
 * Each transport's code is imported only when a plugin of its type is configured: the gRPC
 * client's HPACK dependency, for one, reads an environment variable as it loads, which a router
 * without gRPC plugins should neither pay for nor need permission for.
 */
export const defaultTransportFactory: TransportFactory = async (
  config: PluginConfig,
  logger: Logger,
): Promise<PluginTransport> => {
  switch (config.type) {
    case "wasm": {
      const { loadWasmPlugin } = await import("./wasm/mod.ts");
      return await loadWasmPlugin({
        name: config.name,
        path: config.wasm.path,
        sha256: config.wasm.sha256,
        config: config.wasm.config,
        maxMemoryBytes: config.wasm.maxMemoryBytes,
        maxTableElements: config.wasm.maxTableElements,
        maxModuleBytes: config.wasm.maxModuleBytes,
        isolation: config.wasm.isolation,
        timeoutMs: config.timeoutMs,
        logger,
      });
    }
    case "grpc": {
      const { createGrpcPlugin } = await import("./grpc/mod.ts");
      try {
        return createGrpcPlugin({
          name: config.name,
          address: config.grpc.address,
          timeoutMs: config.timeoutMs,
          logger,
        });
      } catch (err) {
        if (err instanceof PluginError) throw err;
        throw new PluginError(config.name, "load", String(err), { cause: err });
      }
    }
    case "process": {
      const { loadProcessPlugin } = await import("./process/mod.ts");
      return await loadProcessPlugin({
        name: config.name,
        process: config.process,
        timeoutMs: config.timeoutMs,
        logger,
      });
    }
  }
};
