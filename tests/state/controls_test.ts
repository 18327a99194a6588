/**
 * ConsoleControls: the compiled maintenance gate (bypass by username and UUID in any case, by
 * address in any range; the message in the client's language as the Disconnect messages pick
 * theirs), changes stored then applied, a remote change applied and announced, the config's
 * setting back after DELETE and followed on reload.
 */
import assert from "node:assert/strict";
import { parseConfig, parseMaintenance } from "../../src/config/mod.ts";
import {
  ConsoleControls,
  type ControlsView,
  EMPTY_STATE,
  MaintenanceGate,
  MemoryStore,
  openControls,
  StateError,
} from "../../src/state/mod.ts";
import { FakeApiServer, plainConnection } from "../discovery/fake_api_server.ts";
import { within } from "../support/deadline.ts";
import { silentLogger } from "../support/logger.ts";
import { FAST_BACKOFF } from "./stores.ts";

const SETTINGS = parseMaintenance({
  enabled: true,
  message: "Maintenance",
  message_locales: { de: "Wartung", "pt-br": "Manutenção", pt: "Manutenção (pt)" },
  bypass: ["Steve", "0F0E0D0C-0B0A-0908-0706-050403020100", "10.1.0.0/16", "2001:db8::/32"],
});

Deno.test("maintenance gate: bypass by username or uuid in any case, or by address range", () => {
  const gate = new MaintenanceGate(SETTINGS, "api");
  const facts = (username: string, uuid = "", ip: string | null = null) => ({ username, uuid, ip });
  assert.equal(gate.bypassed(facts("steve")), true);
  assert.equal(gate.bypassed(facts("STEVE")), true);
  assert.equal(gate.bypassed(facts("alex")), false);
  assert.equal(gate.bypassed(facts("alex", "0f0e0d0c-0b0a-0908-0706-050403020100")), true);
  assert.equal(gate.bypassed(facts("alex", "", "10.1.200.3")), true);
  assert.equal(gate.bypassed(facts("alex", "", "::ffff:10.1.0.9")), true);
  assert.equal(gate.bypassed(facts("alex", "", "10.2.0.1")), false);
  assert.equal(gate.bypassed(facts("alex", "", "2001:db8:1::5")), true);
  assert.equal(gate.bypassed(facts("alex", "", "2001:db9::5")), false);
  assert.equal(gate.bypassed(facts("alex", "", "not an ip")), false);
});

Deno.test("maintenance gate: the message in the client's language, like the Disconnect texts", () => {
  const gate = new MaintenanceGate(SETTINGS, "api");
  assert.equal(gate.message("de"), "Wartung");
  assert.equal(gate.message("DE_at"), "Wartung"); // base language
  assert.equal(gate.message("pt_BR"), "Manutenção"); // exact before base
  assert.equal(gate.message("pt-PT"), "Manutenção (pt)");
  assert.equal(gate.message("fr"), "Maintenance");
  assert.equal(gate.message(""), "Maintenance");
});

function controls(configText = "maintenance: { message: From the config }\n") {
  const config = parseConfig(configText, "c.yaml");
  return {
    config,
    controls: new ConsoleControls(
      new MemoryStore(),
      config.maintenance,
      EMPTY_STATE,
      silentLogger(),
    ),
  };
}

Deno.test("controls: set, DELETE back to the config, drain and undrain; each announced", async () => {
  const { controls: c } = controls();
  const views: ControlsView[] = [];
  c.subscribe((v) => views.push(v));
  assert.equal(c.maintenance.source, "config");
  assert.equal(c.maintenance.settings.message, "From the config");
  const view = await c.setMaintenance(SETTINGS);
  assert.equal(view.source, "api");
  assert.equal(c.maintenance.enabled, true);
  await c.setMaintenance(null);
  assert.equal(c.maintenance.source, "config");
  assert.equal(c.maintenance.enabled, false);
  assert.deepEqual(await c.drain("b.internal:5520"), ["b.internal:5520"]);
  assert.deepEqual(await c.drain("[::1]:7000"), ["::1:7000", "b.internal:5520"]);
  assert.ok(c.drained.has("::1:7000"));
  assert.deepEqual(await c.undrain("::1:7000"), ["b.internal:5520"]);
  assert.deepEqual(views.map((v) => [v.maintenance.source, v.drained.length]), [
    ["api", 0],
    ["config", 0],
    ["config", 1],
    ["config", 2],
    ["config", 1],
  ]);
  await assert.rejects(
    c.drain("no-port"),
    (e: StateError) => e.code === "invalid" && e.field === "backend",
  );
  await assert.rejects(c.drain("a:0"), /port/);
  await c.close();
});

Deno.test("controls: a reload's maintenance section applies unless the API set one", async () => {
  const { controls: c } = controls();
  c.configChanged(parseConfig("maintenance: { enabled: true }\n", "c.yaml"));
  assert.equal(c.maintenance.enabled, true);
  await c.setMaintenance(parseMaintenance({ enabled: false }));
  c.configChanged(parseConfig("maintenance: { enabled: true, message: x }\n", "c.yaml"));
  assert.equal(c.maintenance.enabled, false);
  assert.equal(c.maintenance.source, "api");
  await c.close();
});

Deno.test("controls: a change another replica stores applies here and is announced", async () => {
  const fake = FakeApiServer.start();
  const config = parseConfig(
    "admin: { state_config_map: { name: gatehouse-state, namespace: hytale } }\n",
    "c.yaml",
  );
  const kube = { connect: () => Promise.resolve(plainConnection(fake.url)), backoff: FAST_BACKOFF };
  const one = await openControls(config, { logger: silentLogger(), kube });
  const two = await openControls(config, { logger: silentLogger(), kube });
  try {
    assert.deepEqual(two.store, {
      store: "config_map",
      shared: true,
      where: `configmap hytale/gatehouse-state at ${fake.url}`,
    });
    const seen = Promise.withResolvers<ControlsView>();
    two.subscribe(seen.resolve);
    await one.setMaintenance(SETTINGS);
    const view = await within(seen.promise, 3_000, "replica two to see the change");
    assert.equal(view.maintenance.enabled, true);
    assert.equal(two.maintenance.enabled, true);
    assert.equal(two.maintenance.bypassed({ username: "steve", uuid: "", ip: null }), true);
  } finally {
    await one.close();
    await two.close();
    await fake.close();
  }
});
