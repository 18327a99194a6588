import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { loadConfig, parseConfig } from "../../src/config/mod.ts";
import devConfig from "../../dev/config.dev.yaml" with { type: "text" };
import routingDevConfig from "../../dev/config.routing.dev.yaml" with { type: "text" };
import { testRequiring } from "../support/requires.ts";

const devDir = new URL("../../dev/", import.meta.url);
const canReadDev = Deno.permissions.querySync({ name: "read", path: devDir }).state === "granted";

// Listing a folder needs read permission (`deno test -R`, as the test task grants); the two dev
// configs are also loaded below from static imports.
testRequiring(
  { available: canReadDev, install: "read permission on dev/ (deno test -R)" },
  "every config in dev/ loads from disk",
  async () => {
    const names = [...Deno.readDirSync(devDir)]
      .filter((e) => e.isFile && /\.(ya?ml|json)$/i.test(e.name))
      .map((e) => e.name);
    assert.ok(names.includes("config.dev.yaml") && names.includes("config.routing.dev.yaml"));
    for (const name of names) {
      const config = await loadConfig(fileURLToPath(new URL(name, devDir)));
      assert.ok(config.routing.default !== null || config.routing.routes.length > 0, name);
    }
  },
);

Deno.test("dev/config.dev.yaml has the documented development settings", () => {
  const config = parseConfig(devConfig, "dev/config.dev.yaml");
  assert.deepEqual(config.listen, { hostname: "::", port: 5520 });
  assert.deepEqual(config.tls, { certFile: null, keyFile: null, alpn: ["hytale/*"] });
  assert.equal(config.logging.logClientIp, true);
  assert.equal(config.limits.connectTimeoutMs, 5000);
  assert.equal(config.referral.keyId, 1);
  const secret = new TextDecoder().decode(config.referral.hmacSecret ?? new Uint8Array());
  assert.equal(secret, "dev-only-secret-change-me");
  assert.deepEqual(config.routing.routes.map((r) => r.hostnames), [
    ["localhost"],
    ["*.example.com", "example.net"],
  ]);
  assert.deepEqual([...config.messages.locales.keys()], ["de", "fr", "es", "pt", "pt-br", "it"]);
});

Deno.test("dev/config.routing.dev.yaml uses every strategy and filter, sort, limit, fallback", () => {
  const config = parseConfig(routingDevConfig, "dev/config.routing.dev.yaml");
  const pools = [config.routing.default, ...config.routing.routes.map((r) => r.pool)]
    .filter((p) => p !== null);
  const strategies = [...new Set(pools.map((p) => p.strategy))].sort();
  assert.deepEqual(strategies, ["least_loaded", "p2c", "random", "round_robin", "weighted"]);
  const filters = pools.flatMap((
    p,
  ) => [...p.filters, ...p.fallback.flatMap((f) => f.filters ?? [])]);
  const filterTypes = [...new Set(filters.map((f) => f.type))].sort();
  assert.deepEqual(filterTypes, ["compare", "game_start_not_past", "whitelist"]);
  assert.ok(pools.some((p) => p.sort.length > 0 && p.limit > 0));
  assert.ok(pools.some((p) => p.fallback.length >= 2));
});
