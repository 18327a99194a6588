import type { PluginConfig } from "../config/mod.ts";
import { type LogFormat, Logger, type LogLevel } from "../observability/mod.ts";
import { formatAddr, GatehouseServer } from "../server/mod.ts";
import { type CommandIO, loadConfigOrReport } from "./check.ts";

/** Options of `start`. */
export interface StartOptions {
  readonly configPath: string;
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
}

/**
 * `start`: load the config, bind, serve until SIGINT/SIGTERM. Returns the exit code.
 * After binding, read and net permissions are revoked unless plugins need them (see
 * `dropPermissions`): the running router only answers on the socket it already holds, so a bug
 * cannot read files or open connections.
 */
export async function runStart(options: StartOptions, io: CommandIO): Promise<number> {
  const config = await loadConfigOrReport(options.configPath, io);
  if (!config) return 1;
  const logger = new Logger({ level: options.logLevel, format: options.logFormat });
  let server: GatehouseServer;
  try {
    server = await GatehouseServer.start(config, { logger });
  } catch (err) {
    logger.error("cannot start", { error: err instanceof Error ? err.message : String(err) });
    return 1;
  }
  await dropPermissions(config.plugins);
  logger.info("listening", {
    addr: formatAddr(server.addr.hostname, server.addr.port),
    config: config.source,
    routes: config.routing.routes.length,
  });
  await untilSignal();
  logger.info("shutting down", { in_flight: server.inFlight });
  await server.close();
  return 0;
}

// gRPC plugins keep connecting (and reconnecting) to their servers, so net stays granted while
// any is configured; the WASM host starts replacement workers from their module file, so read
// stays granted while any WASM plugin is. Under `start`, both grants are already narrowed to
// exactly those addresses and files (launch.ts computes the router's flags).
async function dropPermissions(plugins: readonly PluginConfig[]): Promise<void> {
  if (!plugins.some((p) => p.type === "wasm")) await Deno.permissions.revoke({ name: "read" });
  if (!plugins.some((p) => p.type === "grpc")) await Deno.permissions.revoke({ name: "net" });
}

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
    const onSignal = () => {
      for (const s of signals) Deno.removeSignalListener(s, onSignal);
      resolve();
    };
    for (const s of signals) Deno.addSignalListener(s, onSignal);
  });
}
