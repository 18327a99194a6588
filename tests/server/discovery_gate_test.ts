import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/mod.ts";
import { GatehouseServer } from "../../src/server/mod.ts";
import { silentLogger } from "../support/logger.ts";

// Discovery settings are parsed and validated (so `check` helps operators), but until the
// providers exist a router must not start and silently route discovery pools to nothing.
Deno.test("start refuses a config with discovery providers, naming the file", async () => {
  const config = parseConfig(
    [
      'listen: "127.0.0.1:0"',
      "discovery:",
      "  providers:",
      "    - {name: fleet, type: agones, agones: {}}",
      "routing:",
      "  default: { strategy: random, discovery: { provider: fleet } }",
    ].join("\n"),
    "fleet.yaml",
  );
  await assert.rejects(
    GatehouseServer.start(config, { logger: silentLogger() }),
    /fleet\.yaml: discovery providers are not supported by this build yet/,
  );
});
