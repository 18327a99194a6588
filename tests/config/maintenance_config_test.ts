/**
 * The `maintenance` section and the admin state keys: defaults, classification of bypass
 * entries, errors with line:col naming the entry, and the same validator on a JSON value (the
 * admin API's PUT body) naming `bypass[2]`.
 */
import assert from "node:assert/strict";
import {
  ConfigErrors,
  DEFAULT_MAINTENANCE_MESSAGE,
  parseConfig,
  parseMaintenance,
} from "../../src/config/mod.ts";
import { lines, summaries } from "./expect_errors.ts";

Deno.test("maintenance: off by default, with the default message", () => {
  const m = parseConfig("listen: ':5520'\n", "c.yaml").maintenance;
  assert.deepEqual(m, {
    enabled: false,
    message: DEFAULT_MAINTENANCE_MESSAGE,
    messageLocales: {},
    bypass: [],
  });
  const admin = parseConfig("listen: ':5520'\n", "c.yaml").admin;
  assert.equal(admin.stateFile, null);
  assert.equal(admin.stateConfigMap, null);
});

Deno.test("maintenance: bypass entries are classified, locales normalised", () => {
  const m = parseConfig(
    lines(
      "maintenance:",
      "  enabled: true",
      "  message: Back soon",
      "  message_locales: { pt_BR: Volte logo, DE: Gleich zurück }",
      "  bypass: [Steve, 0F0E0D0C-0B0A-0908-0706-050403020100, 10.1.0.0/16, '2001:db8::1', 192.0.2.7]",
    ),
    "c.yaml",
  ).maintenance;
  assert.equal(m.enabled, true);
  assert.deepEqual(m.messageLocales, { "pt-br": "Volte logo", de: "Gleich zurück" });
  assert.deepEqual(m.bypass.map((b) => `${b.kind}:${b.text}`), [
    "username:Steve",
    "uuid:0f0e0d0c-0b0a-0908-0706-050403020100",
    "ip:10.1.0.0/16",
    "ip:2001:db8::1/128",
    "ip:192.0.2.7/32",
  ]);
});

Deno.test("maintenance: bad entries are errors with line:col naming maintenance.bypass[i]", () => {
  assert.deepEqual(
    summaries(lines(
      "maintenance:",
      "  enabled: maybe",
      "  message: ''",
      "  bypass:",
      "    - Steve",
      "    - ''",
      "    - 10.0.0.1/8",
      `    - ${"a".repeat(70)}`,
      "    - 300.1.2.3",
      "    - has space",
      "  bypas: []",
    )),
    [
      "type maintenance.enabled 2:12",
      "invalid maintenance.message 3:12",
      "invalid maintenance.bypass[1] 6:7",
      "invalid maintenance.bypass[2] 7:7",
      "invalid maintenance.bypass[3] 8:7",
      "invalid maintenance.bypass[4] 9:7",
      "invalid maintenance.bypass[5] 10:7",
      "unknown_key maintenance.bypas 11:3",
    ],
  );
});

Deno.test("maintenance: a message with control characters or direction overrides is refused", () => {
  assert.deepEqual(
    summaries(lines(
      "maintenance:",
      '  message: "Back\\u001b[2J soon"',
      '  message_locales: { de: "Gleich \\u202ezur\\u00fcck", fr: "Ligne 1\\nLigne 2" }',
    )),
    [
      "invalid maintenance.message 2:12",
      "invalid maintenance.message_locales.de 3:26",
    ],
  );
});

Deno.test("admin.state_file resolves against the config's folder; state_config_map is read", () => {
  const a = parseConfig("admin: { state_file: run/state.json }\n", "/srv/gh/c.yaml").admin;
  assert.equal(a.stateFile, "/srv/gh/run/state.json");
  const b = parseConfig(
    "admin: { state_config_map: { name: gatehouse-state, namespace: hytale, kubeconfig: '' } }\n",
    "c.yaml",
  ).admin;
  assert.deepEqual(b.stateConfigMap, {
    name: "gatehouse-state",
    namespace: "hytale",
    kubeconfig: null,
  });
});

Deno.test("admin: state_file and state_config_map together, or bad names, are load errors", () => {
  assert.deepEqual(
    summaries(lines(
      "admin:",
      "  state_file: state.json",
      "  state_config_map: { name: gatehouse-state, namespace: hytale }",
    )),
    ["invalid admin.state_config_map 3:3"],
  );
  assert.deepEqual(
    summaries(lines("admin:", "  state_config_map: { name: Bad_Name, namespace: hytale }")),
    ["invalid admin.state_config_map.name 2:29"],
  );
  assert.deepEqual(
    summaries(lines("admin:", "  state_config_map: { name: s }")),
    ["required admin.state_config_map.namespace 2:21"],
  );
  assert.deepEqual(summaries(lines("admin:", "  state_file: ''")), [
    "invalid admin.state_file 2:15",
  ]);
});

function fieldsOf(value: unknown): string[] {
  try {
    parseMaintenance(value);
  } catch (err) {
    if (err instanceof ConfigErrors) return err.errors.map((e) => `${e.path}: ${e.detail}`);
    throw err;
  }
  throw new assert.AssertionError({ message: "expected the value to be refused" });
}

Deno.test("parseMaintenance (the API's validator) names the field at fault", () => {
  assert.deepEqual(fieldsOf({ enabled: true, bypass: ["Steve", "ok", "10.0.0.1/8"] }), [
    'bypass[2]: not an IP address or CIDR: host bits are set after the /8 prefix (write "10.0.0.0/8" for the network or "10.0.0.1/32" for the one address)',
  ]);
  assert.deepEqual(fieldsOf({ enabled: "yes" }), [
    'enabled: expected true or false, got the string "yes"',
  ]);
  assert.deepEqual(fieldsOf({ enabled: true, colour: 1 }), ['colour: unknown key "colour"']);
  assert.deepEqual(fieldsOf({ enabled: true, message_locales: { de: 5 } }), [
    "message_locales.de: expected a string, got 5",
  ]);
  assert.deepEqual(fieldsOf([1]), [": expected a mapping, got a list"]);
  assert.deepEqual(fieldsOf({ bypass: Array(1001).fill("a") }), [
    "bypass: must have at most 1000 entries, got 1001",
  ]);
});

Deno.test("parseMaintenance keeps the base's values for keys left out", () => {
  const base = parseMaintenance({ enabled: false, message: "M", bypass: ["Steve"] });
  const on = parseMaintenance({ enabled: true }, base);
  assert.equal(on.enabled, true);
  assert.equal(on.message, "M");
  assert.deepEqual(on.bypass.map((b) => b.text), ["Steve"]);
  assert.ok(Object.isFrozen(on) && Object.isFrozen(on.bypass));
});
