/**
 * Start with a discovery provider that has not synced: the router waits (bounded), then serves
 * anyway — a `prefer` pool from its static backends — and follows the provider once it syncs.
 */
import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/mod.ts";
import type { SourceOpener } from "../../src/discovery/mod.ts";
import { Logger } from "../../src/observability/mod.ts";
import { GatehouseServer } from "../../src/server/mod.ts";
import { parseClientReferral } from "../support/hytale_client_codec.ts";
import { askConnect } from "../support/router_harness.ts";
import { fakeFactory, NO_ALLOCATIONS } from "../discovery/fake_sources.ts";
import podJson from "../fixtures/discovery/pod.json" with { type: "json" };

const CONFIG = `
listen: "127.0.0.1:0"
discovery:
  providers:
    - name: k8s
      type: kubernetes
      kubernetes: { namespaces: [hytale], resources: [ { kind: pods, port: { name: game } } ] }
routing:
  default:
    strategy: round_robin
    backends: [ { host: lobby.static, port: 5520 } ]
    discovery: { provider: k8s, mode: prefer }
`;

async function referredHost(port: number): Promise<string> {
  return parseClientReferral((await askConnect(port, "play.example.com", "steve")).payload).host;
}

Deno.test("start: a provider that never syncs delays start by the bounded wait, then the router serves", async () => {
  const fake = fakeFactory();
  const open: SourceOpener = () =>
    Promise.resolve({ open: fake.open, createAllocation: NO_ALLOCATIONS, close: () => {} });
  const logs: string[] = [];
  const logger = new Logger({
    level: "info",
    format: "json",
    sink: { write: (line) => logs.push(line), now: () => new Date() },
  });
  const started = performance.now();
  const server = await GatehouseServer.start(parseConfig(CONFIG, "start.yaml"), {
    logger,
    discoverySources: open,
    discoveryWaitMs: 200,
  });
  try {
    assert.ok(performance.now() - started >= 200, "start waited for the first sync");
    const warning = logs.find((l) => l.includes("not synced yet")) ?? "";
    assert.match(warning, /"providers":"k8s"/);
    assert.match(warning, /"wait_ms":200/);
    assert.equal(await referredHost(server.addr.port), "lobby.static", "static while unsynced");
    fake.sources[0]!.set([podJson]);
    assert.equal(await referredHost(server.addr.port), podJson.status.podIP, "the pod once synced");
  } finally {
    await server.close(1_000);
  }
  assert.ok(fake.sources.every((s) => s.closed), "the watch closes with the server");
});
