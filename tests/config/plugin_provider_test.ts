/**
 * `type: plugin` discovery providers (docs/plugins.md §7): backends pushed by a process plugin;
 * `plugin.name` must be a configured process plugin, `route_id` defaults to the provider's name.
 */
import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/mod.ts";
import { errorsOf, lines, summaries } from "./expect_errors.ts";

const PLUGINS = [
  "plugins:",
  "  - { name: guard, type: process, process: { command: [./guard] } }",
  "  - { name: g, type: grpc, grpc: { address: 127.0.0.1:1 } }",
];

Deno.test("plugin provider: route_id defaults to the provider's name", () => {
  const config = parseConfig(
    lines(
      ...PLUGINS,
      "discovery:",
      "  providers:",
      "    - { name: lobbies, type: plugin, plugin: { name: guard } }",
      "    - { name: games, type: Plugin, plugin: { name: guard, route_id: ' minigames ' } }",
      "    - { name: blank, type: plugin, plugin: { name: guard, route_id: '' } }",
      "routing:",
      "  default: { strategy: round_robin, discovery: { provider: lobbies } }",
    ),
    "/etc/gh/config.yaml",
  );
  assert.deepEqual(config.discovery.providers, [
    {
      name: "lobbies",
      insecureHttp: false,
      type: "plugin",
      plugin: { pluginName: "guard", routeId: "lobbies" },
    },
    {
      name: "games",
      insecureHttp: false,
      type: "plugin",
      plugin: { pluginName: "guard", routeId: "minigames" },
    },
    {
      name: "blank",
      insecureHttp: false,
      type: "plugin",
      plugin: { pluginName: "guard", routeId: "blank" },
    },
  ]);
});

Deno.test("plugin provider: plugin.name must be a configured process plugin", () => {
  const text = lines(
    ...PLUGINS,
    "discovery:",
    "  providers:",
    "    - { name: a, type: plugin, plugin: { name: gaurd } }",
    "    - { name: b, type: plugin, plugin: { name: g } }",
    "    - name: c",
    "      type: plugin",
    "      plugin: { route_id: x }",
  );
  assert.deepEqual(summaries(text, "/etc/gh/config.yaml"), [
    "reference discovery.providers[0].plugin.name 6:48",
    "reference discovery.providers[1].plugin.name 7:48",
    "required discovery.providers[2].plugin.name 10:15",
  ]);
  const [typo, grpc] = errorsOf(text, "/etc/gh/config.yaml");
  assert.match(typo!.message, /no process plugin is named "gaurd" \(did you mean "guard"\?\)/);
  assert.match(grpc!.message, /plugin "g" is a grpc plugin; only process plugins push backends/);
  // Without any process plugin, the hint says so.
  const none = lines(
    "discovery:",
    "  providers:",
    "    - { name: a, type: plugin, plugin: { name: guard } }",
  );
  assert.match(
    errorsOf(none, "/etc/gh/config.yaml")[0]!.message,
    /no process plugin is named "guard" \(no process plugins are configured\)/,
  );
});

Deno.test("plugin provider: other providers' settings and insecure_http are errors", () => {
  const text = lines(
    ...PLUGINS,
    "discovery:",
    "  providers:",
    "    - name: a",
    "      type: plugin",
    "      insecure_http: false",
    "      plugin: { name: guard, route: x }",
    "      kubernetes: { resources: [] }",
    "    - name: k",
    "      type: kubernetes",
    "      kubernetes: { resources: [] }",
    "      plugin: { name: guard }",
    "    - { name: m, type: plugin }",
  );
  assert.deepEqual(summaries(text, "/etc/gh/config.yaml"), [
    "invalid discovery.providers[0].insecure_http 8:7",
    "unknown_key discovery.providers[0].plugin.route 9:30",
    "invalid discovery.providers[0].kubernetes 10:7",
    "invalid discovery.providers[1].plugin 14:7",
    "required discovery.providers[2].plugin 15:7",
  ]);
  const errors = errorsOf(text, "/etc/gh/config.yaml");
  assert.match(errors[0]!.message, /only used by kubernetes and agones providers/);
  assert.match(errors[2]!.message, /only used by kubernetes providers/);
  assert.match(errors[3]!.message, /only used by plugin providers/);
});
