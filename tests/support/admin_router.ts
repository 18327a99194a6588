/**
 * The admin API tests' shared set-up: a config read from memory beside its admin token file, and
 * a router started in-process with its admin endpoint attached, in `start`'s order (admin open,
 * router start, attach, serving).
 */
import { AdminEndpoint } from "../../src/cli/admin.ts";
import { type Config, loadConfig } from "../../src/config/mod.ts";
import { GatehouseServer, type ServerOptions } from "../../src/server/mod.ts";
import { silentLogger } from "./logger.ts";

/** Where the in-memory config lives; `token_file: admin.token` resolves beside it. */
export const CONFIG_PATH = "/srv/gh/config.yaml";

/** Loads `text` as the file at {@link CONFIG_PATH}, with `token` as `/srv/gh/admin.token`. */
export async function loadWithToken(text: string, token: string): Promise<Config> {
  const files = new Map([[CONFIG_PATH, text], ["/srv/gh/admin.token", token]]);
  return await loadConfig(CONFIG_PATH, {
    readTextFile: (p) => Promise.resolve(files.get(p) ?? ""),
  });
}

/** A router and its admin endpoint, both running. */
export interface AdminRouter {
  /** `http://127.0.0.1:<admin port>`. */
  readonly base: string;
  readonly server: GatehouseServer;
  readonly admin: AdminEndpoint;
}

/**
 * Runs `body` against a router started from `config` (a silent logger unless `options` has one)
 * with its admin endpoint attached and serving; closes both afterwards.
 */
export async function withAdminRouter(
  config: Config,
  options: Partial<ServerOptions>,
  body: (r: AdminRouter) => Promise<void>,
): Promise<void> {
  const logger = options.logger ?? silentLogger();
  const admin = AdminEndpoint.open(config, logger);
  const server = await GatehouseServer.start(config, {
    ...options,
    logger,
    metrics: admin.metrics,
  });
  try {
    admin.attach(server);
    admin.serving();
    await body({ base: `http://127.0.0.1:${admin.address!.port}`, server, admin });
  } finally {
    await server.close(1_000);
    await admin.close();
  }
}
