/**
 * A real router started in-process with its admin endpoint, as `start` does it (admin open,
 * runtime controls opened and attached, router start, attach, serving): the dashboard at `base`, players on `quicPort`. Plugins get an
 * in-memory transport that lets every player through.
 */
import { AdminEndpoint } from "../../src/cli/admin.ts";
import { type Config, loadConfig } from "../../src/config/mod.ts";
import { Logger } from "../../src/observability/mod.ts";
import { GatehouseServer } from "../../src/server/mod.ts";
import { type ConsoleControls, openControls } from "../../src/state/mod.ts";
import { FakeTransport } from "../plugins/fake_transport.ts";

/** The token the browser tests log in with. */
export const TOKEN = "browser-test-token-5d1c";

/** A router serving the dashboard. */
export interface ConsoleRouter {
  /** `http://127.0.0.1:<admin port>`. */
  readonly base: string;
  /** The QUIC port players connect to. */
  readonly quicPort: number;
  /** The config as loaded. */
  readonly config: Config;
}

/**
 * Loads `yaml` as if read from `source` (its `admin.token_file` is `admin.token` beside it,
 * holding {@link TOKEN}; nothing is read from disk), starts the router and its admin endpoint,
 * runs `body`, and closes both.
 */
export async function withConsoleRouter(
  yaml: string,
  body: (router: ConsoleRouter) => Promise<void>,
  source = "/srv/gatehouse/config.yaml",
): Promise<void> {
  const config = await loadConfig(source, {
    // The token file's path is resolved against the config's folder, absolute either way.
    readTextFile: (p) =>
      Promise.resolve(p === source ? yaml : p.endsWith("/admin.token") ? `${TOKEN}\n` : ""),
  });
  const logger = new Logger({
    level: "error",
    format: "json",
    sink: { write: () => {}, now: () => new Date() },
  });
  const admin = AdminEndpoint.open(config, logger);
  let controls: ConsoleControls | null = null;
  let server: GatehouseServer | null = null;
  try {
    controls = await openControls(config, { logger });
    admin.attachControls(controls);
    server = await GatehouseServer.start(config, {
      logger,
      metrics: admin.metrics,
      controls,
      transports: (p) => Promise.resolve(new FakeTransport(p.name, () => ({}))),
    });
    admin.attach(server);
    admin.serving();
    const address = admin.address;
    if (address === null) throw new Error("the config has no admin.listen");
    await body({ base: `http://127.0.0.1:${address.port}`, quicPort: server.addr.port, config });
  } finally {
    await server?.close(1_000);
    await controls?.close();
    await admin.close();
  }
}
