import { type Config, ConfigErrors, loadConfig } from "../config/mod.ts";
import { Logger, printable } from "../observability/mod.ts";
import { defaultTransportFactory } from "../plugins/mod.ts";
import { formatAddr } from "../server/mod.ts";

/** Output streams of a command, injectable for tests. */
export interface CommandIO {
  /** Writes one line of command output (stdout for the real CLI). */
  out(line: string): void;
  /** Writes one line of diagnostics (stderr for the real CLI). */
  err(line: string): void;
}

/**
 * `check --config FILE`: validate only. Prints a one-line summary and returns 0, or prints
 * every error (one per line, `file:line:col path: message`) and returns 1.
 */
export async function runCheck(configPath: string, io: CommandIO): Promise<number> {
  const result = await loadConfigOrReport(configPath, io);
  if (!result) return 1;
  const failures = await loadWasmPlugins(result);
  if (failures.length > 0) {
    // A load error can quote the module (export and import names): no raw control characters.
    for (const f of failures) io.err(`${configPath}: ${printable(f)}`);
    io.err(
      `${configPath}: ${failures.length} plugin${failures.length === 1 ? "" : "s"} failed to load`,
    );
    return 1;
  }
  io.out(summarize(result));
  return 0;
}

/**
 * Loads every WASM plugin as `start` would (pin, imports, exports, `_initialize`, `init`) and
 * closes it again; returns the error messages. gRPC plugins are not dialled: their server
 * need not be up when a config is checked.
 */
async function loadWasmPlugins(config: Config): Promise<string[]> {
  const logger = new Logger({ level: "error", format: "text" });
  const failures: string[] = [];
  for (const plugin of config.plugins) {
    if (plugin.type !== "wasm") continue;
    try {
      const transport = await defaultTransportFactory(plugin, logger.with({ plugin: plugin.name }));
      await transport.close();
    } catch (err) {
      failures.push(err instanceof Error ? err.message : String(err));
    }
  }
  return failures;
}

/**
 * Loads a config; on failure reports every error to `io.err` and returns null. `fs` defaults
 * to `Deno` (`start` passes one that remembers the text, for live reload).
 */
export async function loadConfigOrReport(
  path: string,
  io: CommandIO,
  fs?: { readTextFile(p: string): Promise<string> },
): Promise<Config | null> {
  try {
    return await loadConfig(path, fs);
  } catch (err) {
    if (!(err instanceof ConfigErrors)) throw err;
    for (const e of err.errors) io.err(e.message);
    io.err(`${path}: ${err.errors.length} error${err.errors.length === 1 ? "" : "s"}`);
    return null;
  }
}

/** One line describing a valid config. */
export function summarize(config: Config): string {
  const pools = [...config.routing.routes.map((r) => r.pool), config.routing.default]
    .filter((p) => p !== null);
  const backends = pools.reduce((n, p) => n + p.backends.length, 0);
  const { routes } = config.routing;
  return [
    `ok: ${config.source}`,
    `listen udp ${formatAddr(config.listen.hostname, config.listen.port)}`,
    `${routes.length} route${routes.length === 1 ? "" : "s"}`,
    config.routing.default ? "default pool" : "no default pool",
    `${backends} static backend${backends === 1 ? "" : "s"}`,
    config.referral.hmacSecret
      ? `referrals signed (key ${config.referral.keyId})`
      : "referrals unsigned",
    config.tls.certFile ? `tls ${config.tls.certFile}` : "self-signed tls",
    `${config.plugins.length} plugin${config.plugins.length === 1 ? "" : "s"}`,
  ].join(", ");
}
