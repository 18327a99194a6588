// Hyrouter's shipped and documented configs (tests/fixtures/config/) load with the meaning
// Hyrouter gives them; each JSON fixture is the same document converted by an independent tool.
import assert from "node:assert/strict";
import { type Config, parseConfig } from "../../src/config/mod.ts";
import { summaries } from "./expect_errors.ts";
import hyrouterConfig from "../fixtures/config/hyrouter_config.yaml" with { type: "text" };
import hyrouterConfigJson from "../fixtures/config/hyrouter_config.json" with { type: "text" };
import hyrouterDev from "../fixtures/config/hyrouter_dev_config.yaml" with { type: "text" };
import docsConfiguration from "../fixtures/config/docs_configuration.yaml" with { type: "text" };
import docsConfigurationJson from "../fixtures/config/docs_configuration.json" with {
  type: "text",
};
import docsRouting from "../fixtures/config/docs_routing.yaml" with { type: "text" };
import docsRoutingJson from "../fixtures/config/docs_routing.json" with { type: "text" };
import docsRoutingDiscovery from "../fixtures/config/docs_routing_discovery.yaml" with {
  type: "text",
};
import docsDiscoveryPlugins from "../fixtures/config/docs_discovery_and_plugins.yaml" with {
  type: "text",
};

/** The config without `source` (which names the file), for YAML/JSON comparisons. */
function meaning(config: Config): Omit<Config, "source"> {
  const { source: _source, ...rest } = config;
  return rest;
}

Deno.test("Hyrouter's config.yaml loads with its values and our defaults", () => {
  const config = parseConfig(hyrouterConfig, "config.yaml");
  assert.deepEqual(config.listen, { hostname: "::", port: 5520 });
  assert.deepEqual(config.tls, { certFile: null, keyFile: null, alpn: ["hytale/1"] });
  assert.equal(config.quic.maxIdleTimeoutMs, 30_000);
  assert.equal(config.logging.logClientIp, true);
  assert.deepEqual(config.referral, { keyId: 0, hmacSecret: null });
  // Hyrouter's per-IP limit was off by default; ours is on (README, operating notes).
  assert.deepEqual(config.limits, {
    connectTimeoutMs: 5000,
    maxConnectionsPerIp: 32,
    ipv4Prefix: 32,
    ipv6Prefix: 64,
    handshakeRate: { perSecond: 20, burst: 40 },
    maxConnections: 10_000,
    ipv6Subnet: { prefix: 48, maxConnections: 1_024 },
  });
  assert.deepEqual(config.access, { allow: null, deny: [] });
  assert.deepEqual(config.admin, {
    listen: { hostname: "127.0.0.1", port: 9090 },
    tokenFile: null,
    stateFile: null,
    stateConfigMap: null,
    token: null,
  });
  assert.deepEqual(config.routing, {
    default: {
      strategy: "round_robin",
      key: "",
      sample: 0,
      sort: [],
      limit: 0,
      filters: [],
      fallback: [],
      backends: [{ host: "play.hyvane.com", port: 5520, weight: 0, meta: null }],
      discovery: null,
    },
    routes: [],
  });
});

Deno.test("built-in locales are byte for byte the texts of Hyrouter's dev config", () => {
  const builtIn = parseConfig(hyrouterConfig, "config.yaml").messages;
  const spelledOut = parseConfig(hyrouterDev, "config.dev.yaml").messages;
  assert.deepEqual(builtIn, spelledOut);
  assert.equal(builtIn.disconnect.no_route, "The server is currently unavailable.");
  assert.equal(builtIn.locales.get("de")?.no_route, "Der Server ist aktuell nicht verf\u00fcgbar.");
  assert.equal(
    builtIn.locales.get("it")?.discovery_error,
    "Il server sta cercando un'istanza disponibile. Riprova tra un momento.",
  );
});

Deno.test("Hyrouter's docs/configuration.md examples load with the expected typed values", () => {
  const config = parseConfig(docsConfiguration, "docs_configuration.yaml");
  assert.deepEqual(config.tls, {
    certFile: "/etc/hyrouter/tls.crt",
    keyFile: "/etc/hyrouter/tls.key",
    alpn: ["hytale/*"],
  });
  assert.equal(config.logging.logClientIp, false);
  assert.equal(config.referral.keyId, 1);
  assert.equal(
    new TextDecoder().decode(config.referral.hmacSecret ?? undefined),
    "secret-shared-with-backends",
  );
  const [alpha, wildcard, play] = config.routing.routes;
  assert.deepEqual(alpha?.hostnames, ["alpha.example.com"]);
  assert.equal(alpha?.pool.strategy, "weighted");
  assert.deepEqual(alpha?.pool.backends.map((b) => [b.host, b.weight]), [
    ["alpha-backend-a.internal", 1],
    ["alpha-backend-b.internal", 3],
  ]);
  assert.deepEqual(wildcard?.hostnames, ["*.example.com"]);
  assert.equal(wildcard?.pool.strategy, "random");
  assert.deepEqual(play?.pool.strategy, "p2c");
  assert.equal(play?.pool.key, "counter:onlinePlayers.count");
  assert.equal(play?.pool.sample, 2);
  assert.deepEqual(play?.pool.filters, [
    {
      type: "compare",
      left: "counter:onlinePlayers.count",
      op: "lt",
      right: "counter:onlinePlayers.capacity",
    },
    { type: "game_start_not_past", key: "annotation.agones.dev/sdk-game-start" },
    {
      type: "whitelist",
      enabledKey: "annotation.agones.dev/sdk-whitelist-enabled",
      listKey: "list.whitelistedPlayers.values",
      subject: "uuid",
    },
  ]);
  assert.deepEqual(play?.pool.fallback, [{ strategy: "round_robin", filters: [] }]);
  // A present disconnect_locales replaces the built-in set: only "de" remains.
  assert.deepEqual([...config.messages.locales.keys()], ["de"]);
  assert.equal(
    config.messages.locales.get("de")?.no_backends?.startsWith("Der Server ist gerade voll"),
    true,
  );
});

Deno.test("Hyrouter's docs/routing.md example loads: hostnames lists, weights, whitelist filter, meta", () => {
  const config = parseConfig(docsRouting, "docs_routing.yaml");
  assert.equal(config.routing.default?.backends[0]?.host, "play.hyvane.com");
  assert.deepEqual(config.routing.routes.map((r) => [r.hostnames, r.pool.strategy]), [
    [["alpha.example.com"], "round_robin"],
    [["*.example.com", "example.net"], "weighted"],
    [["whitelisted.example.com"], "round_robin"],
  ]);
  assert.deepEqual(config.routing.routes[1]?.pool.backends.map((b) => b.weight), [1, 2]);
  const whitelisted = config.routing.routes[2]?.pool;
  assert.deepEqual(whitelisted?.filters, [{
    type: "whitelist",
    enabledKey: "annotation.agones.dev/sdk-whitelist-enabled",
    listKey: "list.whitelistedPlayers.values",
    subject: "uuid",
  }]);
  assert.deepEqual({ ...whitelisted?.backends[0]?.meta }, {
    "annotation.agones.dev/sdk-whitelist-enabled": "true",
    "list.whitelistedPlayers.values": '["3f1c0a52-1111-2222-3333-444455556666"]',
  });
});

Deno.test("JSON equivalents of the examples load identically", () => {
  const pairs: [string, string][] = [
    [hyrouterConfig, hyrouterConfigJson],
    [docsConfiguration, docsConfigurationJson],
    [docsRouting, docsRoutingJson],
  ];
  for (const [yaml, json] of pairs) {
    assert.deepEqual(
      meaning(parseConfig(json, "config.json")),
      meaning(parseConfig(yaml, "config.yaml")),
    );
  }
});

Deno.test("Hyrouter's docs/routing.md discovery-backed route: rejected only for its unknown provider", () => {
  assert.deepEqual(summaries(docsRoutingDiscovery), [
    "reference routing.routes[0].pool.discovery.provider 15:21",
  ]);
});

Deno.test("docs discovery and plugin examples load: one agones provider the pool refers to", () => {
  const config = parseConfig(docsDiscoveryPlugins, "config.yaml");
  const [provider] = config.discovery.providers;
  assert.equal(provider?.type, "agones");
  assert.equal(provider.name, "agones");
  assert.equal(provider.agones.kubeconfig, null);
  assert.deepEqual(provider.agones.namespaces, ["hytale"]);
  assert.equal(provider.agones.mode, "observe");
  assert.deepEqual(provider.agones.states, ["Ready"]);
  assert.equal(config.routing.routes[0]?.pool.discovery?.provider, "agones");
});

Deno.test("the docs' placeholder secret is refused: it is not valid base64", () => {
  const text = 'referral:\n  key_id: 1\n  hmac_secret: "base64:REPLACE_ME_WITH_A_SECRET"\n';
  assert.deepEqual(summaries(text), ["invalid referral.hmac_secret 3:16"]);
});
