import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/mod.ts";
import { GatehouseServer } from "../../src/server/mod.ts";
import { silentLogger } from "../support/logger.ts";

// Agones allocate mode (a GameServerAllocation per connection) is not wired yet: a router must
// not start and silently route that pool to nothing.
Deno.test("start refuses agones mode: allocate, naming the provider", async () => {
  const config = parseConfig(
    [
      'listen: "127.0.0.1:0"',
      "discovery:",
      "  providers:",
      "    - {name: fleet, type: agones, agones: {mode: allocate}}",
      "routing:",
      "  default: { strategy: random, discovery: { provider: fleet } }",
    ].join("\n"),
    "fleet.yaml",
  );
  await assert.rejects(
    GatehouseServer.start(config, {
      logger: silentLogger(),
      discoverySources: () => Promise.reject(new Error("must not connect")),
    }),
    /discovery provider "fleet": agones mode: allocate is not supported yet/,
  );
});
