import assert from "node:assert/strict";
import { allocationBackend, gameServerBackend } from "../../../src/discovery/agones/backends.ts";
import type { GameServer } from "../../../src/discovery/kube/objects.ts";
import gsJson from "../../fixtures/discovery/gameserver.json" with { type: "json" };
import allocationJson from "../../fixtures/discovery/allocation.json" with { type: "json" };
import { agonesSettings } from "../provider_config.ts";

const gs: GameServer = gsJson;

function withGs(change: (g: typeof gsJson) => void): GameServer {
  const copy = structuredClone(gsJson);
  change(copy);
  return copy;
}

Deno.test("gameserver: address, named port, state, counters, lists, weight and selected meta", () => {
  const a = agonesSettings(
    `{ namespaces: [hytale], selector: { labels: "agones.dev/fleet=hytale" }, port: { name: gameport },` +
      ` metadata: { include_labels: [region] } }`,
  );
  const b = gameServerBackend(gs, a);
  assert.deepEqual(b && { ...b, meta: { ...b.meta } }, {
    host: "node-eu-1.example.net",
    port: 7403,
    weight: 2,
    meta: {
      "k8s.namespace": "hytale",
      "k8s.name": "hytale-fleet-8xk2p-q7w9z",
      "gameserver.state": "Ready",
      "counter.players.count": "37",
      "counter.players.capacity": "100",
      // As Go's encoding/json writes it: < and > escaped.
      "list.rooms.values": '["lobby","pvp\\u003c1\\u003e"]',
      "list.rooms.capacity": "10",
      "label.region": "eu",
    },
  });
});

Deno.test("gameserver: addresses by preference, else the first listed, else status.address", () => {
  const host = (flow: string, g: GameServer = gs) =>
    gameServerBackend(g, agonesSettings(flow))?.host;
  assert.equal(host("{ address: { preference: [ExternalIP, InternalIP] } }"), "203.0.113.7");
  assert.equal(
    host("{ address: { source: addresses, preference: [Missing] } }"),
    "node-eu-1.example.net",
  );
  assert.equal(host("{ address: { source: addresses, preference: [InternalIP] } }"), "10.0.3.4");
  assert.equal(
    host("{ address: { source: address, preference: [ExternalIP] } }"),
    "node-eu-1.example.net",
  );
  const noList = withGs((g) => (g.status.addresses = []));
  assert.equal(host("{ address: { source: addresses } }", noList), "node-eu-1.example.net");
});

Deno.test("gameserver: states (case-insensitive), Shutdown, namespaces, selectors, ports filter", () => {
  const ok = (flow: string, g: GameServer = gs) =>
    gameServerBackend(g, agonesSettings(flow)) !== null;
  assert.equal(ok("{}"), true, "default state Ready");
  assert.equal(ok("{}", withGs((g) => (g.status.state = "Allocated"))), false);
  assert.equal(ok("{ state: [allocated] }", withGs((g) => (g.status.state = "Allocated"))), true);
  assert.equal(ok("{ state: [Shutdown] }", withGs((g) => (g.status.state = "Shutdown"))), false);
  assert.equal(ok("{ namespaces: [other] }"), false);
  assert.equal(ok('{ selector: { labels: "region notin (eu)" } }'), false);
  assert.equal(ok('{ selector: { annotations: "agones.dev/sdk-version=1.44.0" } }'), true);
  assert.equal(ok("{ port: { name: query } }"), false, "a configured port name that is missing");
  assert.equal(ok("{}", withGs((g) => (g.status.ports = []))), false);
  assert.equal(ok("{}", withGs((g) => (g.status.address = ""))), false);
  assert.equal(gameServerBackend(gs, agonesSettings("{ port: { number: 5520 } }"))?.port, 5520);
});

Deno.test("allocation: the created GameServerAllocation's status gives one backend", () => {
  const a = agonesSettings("{ mode: allocate, namespaces: [hytale], port: { name: gameport } }");
  const b = allocationBackend(allocationJson, "hytale", a);
  assert.deepEqual(b && { ...b, meta: { ...b.meta } }, {
    host: "203.0.113.7",
    port: 7403,
    weight: 1,
    meta: { "k8s.namespace": "hytale", "k8s.name": "hytale-fleet-8xk2p-q7w9z" },
  });
  const unallocated = { status: { state: "UnAllocated", ports: [], address: "" } };
  assert.equal(allocationBackend(unallocated, "hytale", a), null);
});
