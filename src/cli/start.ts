import type { Config } from "../config/mod.ts";
import { type LogFormat, Logger, type LogLevel } from "../observability/mod.ts";
import { formatAddr, GatehouseServer, type ReloadResult, settleWithin } from "../server/mod.ts";
import { type ConsoleControls, openControls, storeSettingsChanged } from "../state/mod.ts";
import { AdminEndpoint } from "./admin.ts";
import { type CommandIO, loadConfigOrReport } from "./check.ts";
import { LiveReload } from "./live_reload.ts";
import { listenForSignals, type SignalListeners } from "./signals.ts";

/** Options of `start`. */
export interface StartOptions {
  readonly configPath: string;
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
  /** Called after every reload attempt, failed ones included (the metrics hook). */
  readonly onReload?: (result: ReloadResult) => void;
  /** Stop when stdin ends: the launcher that holds it open is gone (`start`'s router). */
  readonly lifeline?: boolean;
}

/** How long a graceful shutdown waits for connections in flight before closing them. */
export const SHUTDOWN_GRACE_MS = 10_000;

/**
 * `start`: load the config, bind, serve until SIGINT/SIGTERM. Returns the exit code. The config
 * is reloaded when its file changes and on SIGHUP (see `LiveReload`). On the first SIGINT or
 * SIGTERM new connections are refused and those in flight get {@link SHUTDOWN_GRACE_MS} to
 * finish; a second one exits at once (`FORCED_EXIT_CODE`).
 * After binding, net permission is revoked unless plugins need it (see `dropPermissions`). The
 * admin endpoint (`admin.listen`) is bound before the router, and keeps serving after `net` is
 * revoked (a bound listener needs no permission).
 */
export async function runStart(options: StartOptions, io: CommandIO): Promise<number> {
  let loadedText: string | null = null;
  // Only the config's own text: loadConfig also reads the admin token file (a secret).
  const recording = {
    readTextFile: async (p: string) => {
      const read = await Deno.readTextFile(p);
      if (p === options.configPath) loadedText = read;
      return read;
    },
  };
  const config = await loadConfigOrReport(options.configPath, io, recording);
  if (!config) return 1;
  const logger = new Logger({ level: options.logLevel, format: options.logFormat });
  // Listening from the start: a SIGHUP while plugins load must not kill the process (its default
  // action) but reload once serving; a stop signal then shuts down as soon as start-up ends.
  let hangupPending = false;
  let onHangup = () => void (hangupPending = true);
  const signals = listenForSignals({
    onHangup: () => onHangup(),
    onForcedExit: (signal, code) =>
      logger.warn("second stop signal: exiting now", { signal, code }),
    lifeline: options.lifeline ? Deno.stdin.readable : null,
  });
  let admin: AdminEndpoint | undefined;
  let controls: ConsoleControls | undefined;
  let server: GatehouseServer;
  try {
    admin = AdminEndpoint.open(config, logger);
    // The stored maintenance and drains apply from the first connection on.
    controls = await openControls(config, { logger });
    admin.attachControls(controls);
    server = await GatehouseServer.start(config, { logger, metrics: admin.metrics, controls });
  } catch (err) {
    logger.error("cannot start", { error: err instanceof Error ? err.message : String(err) });
    await controls?.close();
    await admin?.close();
    signals.dispose();
    return 1;
  }
  const names = config.discovery.providers.map((p) => p.name);
  admin.discoveryChecks(names, (name) => server.discoveryReady(name));
  admin.attach(server);
  admin.serving();
  await dropPermissions(config);
  logger.info("listening", {
    addr: formatAddr(server.addr.hostname, server.addr.port),
    config: config.source,
    routes: config.routing.routes.length,
  });
  const live = liveReload(server, options, loadedText, logger, admin, controls);
  onHangup = () => void live.reload(true);
  if (hangupPending) onHangup();
  await stopGracefully(server, signals, live, logger, admin);
  await controls.close();
  await admin.close();
  return 0;
}

/** Reloads on file change and SIGHUP; every attempt is counted in the admin metrics. */
function liveReload(
  server: GatehouseServer,
  options: StartOptions,
  loadedText: string | null,
  logger: Logger,
  admin: AdminEndpoint,
  controls: ConsoleControls,
): LiveReload {
  let previous = server.config;
  const onReload = (result: ReloadResult) => {
    admin.metrics.reload(result.ok);
    if (result.ok) {
      const names = server.config.discovery.providers.map((p) => p.name);
      admin.discoveryChecks(names, (name) => server.discoveryReady(name));
      controls.configChanged(server.config, storeSettingsChanged(previous, server.config));
      previous = server.config;
    }
    const sha256 = server.config.sha256;
    if (result.ok && sha256 !== null) admin.metrics.configLoaded(sha256);
    options.onReload?.(result);
  };
  return new LiveReload(server, { path: options.configPath, logger, loadedText, onReload });
}

/** Waits for a stop signal, then shuts down gracefully. */
async function stopGracefully(
  server: GatehouseServer,
  signals: SignalListeners,
  live: LiveReload,
  logger: Logger,
  admin: AdminEndpoint,
): Promise<void> {
  const signal = await signals.stop;
  admin.stopping();
  logger.info("shutting down", { signal, in_flight: server.inFlight, grace_ms: SHUTDOWN_GRACE_MS });
  // A reload still loading plugins must not hold the shutdown past its grace period.
  await settleWithin(live.close(), SHUTDOWN_GRACE_MS);
  await server.close(SHUTDOWN_GRACE_MS);
  // Removed only now: a second signal must still cut the grace period short.
  signals.dispose();
  logger.info("stopped");
}

// gRPC plugins keep connecting (and reconnecting) to their servers, process plugins to their
// Unix sockets (net `unix:PATH`), and discovery providers and the state ConfigMap keep watching
// the Kubernetes API, so net stays granted while any is configured. Read stays granted: live reload re-reads the config
// file and loads new WASM modules (and the WASM host starts replacement workers from their module
// file). Under `start`, both grants are already narrowed to exactly those files and addresses
// (launch.ts computes the router's flags); this revoke matters for `serve` run with broad flags.
async function dropPermissions(config: Config): Promise<void> {
  const connects = config.plugins.some((p) => p.type === "grpc" || p.type === "process") ||
    config.admin.stateConfigMap !== null;
  if (!connects && config.discovery.providers.length === 0) {
    await Deno.permissions.revoke({ name: "net" });
  }
}
