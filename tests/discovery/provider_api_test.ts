/**
 * Providers over the real API path: KubeClient → informers → provider snapshot, against the
 * fake API server speaking the Kubernetes wire protocol. A scripted fleet change must show in
 * the snapshot within 1 s.
 */
import assert from "node:assert/strict";
import type { SourceFactory } from "../../src/discovery/mod.ts";
import { AgonesObserver } from "../../src/discovery/agones/observer.ts";
import { KubeClient } from "../../src/discovery/kube/client.ts";
import { informerSources } from "../../src/discovery/kube/informer_sources.ts";
import { KubernetesProvider } from "../../src/discovery/kubernetes/provider.ts";
import { silentLogger } from "../support/logger.ts";
import { type ApiObject, FakeApiServer, plainConnection } from "./fake_api_server.ts";
import { agonesSettings, kubernetesSettings } from "./provider_config.ts";
import podJson from "../fixtures/discovery/pod.json" with { type: "json" };
import gsJson from "../fixtures/discovery/gameserver.json" with { type: "json" };

const PODS = "/api/v1/pods";
const GAMESERVERS = "/apis/agones.dev/v1/gameservers";
const REACT_MS = 1_000;

const api = (object: unknown) => object as ApiObject;

// The fake server speaks plain HTTP: the token may cross it only with insecure_http.
function client(server: FakeApiServer): KubeClient {
  return new KubeClient(plainConnection(server.url, { token: "t0ken" }), { insecureHttp: true });
}

/**
 * A provider's real API path (KubeClient → informers) whose every applied change wakes
 * `until`, so a test awaits the change instead of polling for it.
 */
function apiSources(server: FakeApiServer) {
  let wake = () => {};
  const informers = informerSources(client(server), silentLogger());
  const open: SourceFactory = (request) =>
    informers({ ...request, onChange: () => (request.onChange(), wake()) });
  /** Resolves once `check()` holds, re-checked after each applied change; fails after `ms`. */
  async function until(check: () => boolean, what: string, ms = REACT_MS): Promise<void> {
    const deadline = performance.now() + ms;
    while (!check()) {
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`not within ${ms} ms: ${what}`);
      const changed = Promise.withResolvers<void>();
      wake = changed.resolve;
      const timer = setTimeout(changed.resolve, left);
      await changed.promise;
      clearTimeout(timer);
    }
  }
  return { open, until };
}

const hosts = (p: { snapshot(): readonly { host: string; port: number }[] }) =>
  p.snapshot().map((b) => `${b.host}:${b.port}`).sort();

function pod(name: string, ip: string, ready: boolean): ApiObject {
  const p = structuredClone(podJson);
  p.metadata.name = name;
  p.status.podIP = ip;
  for (const c of p.status.conditions) if (c.type === "Ready") c.status = ready ? "True" : "False";
  return api(p);
}

Deno.test("kubernetes provider over the API: pods becoming Ready and deleted show within 1 s", async () => {
  const server = FakeApiServer.start({ token: "t0ken" });
  server.add(PODS, pod("lobby-0", "10.244.0.10", true));
  server.add(PODS, pod("lobby-1", "10.244.0.11", false));
  const k = kubernetesSettings(
    `{ namespaces: [hytale], resources: [ { kind: pods, selector: { labels: "app=hytale" }, port: { name: game } } ],` +
      ` filters: { require_pod_ready: true } }`,
  );
  const { open, until } = apiSources(server);
  const provider = new KubernetesProvider("k8s", k, open);
  try {
    await until(() => provider.ready(), "first list");
    assert.deepEqual(hosts(provider), ["10.244.0.10:5520"]);
    server.modify(PODS, pod("lobby-1", "10.244.0.11", true));
    await until(() => hosts(provider).length === 2, "lobby-1 Ready");
    server.delete(PODS, "hytale", "lobby-0");
    await until(() => hosts(provider).join() === "10.244.0.11:5520", "lobby-0 deleted");
    // The watch expires (410): the provider re-lists and keeps serving meanwhile.
    server.expireWatches();
    server.add(PODS, pod("lobby-2", "10.244.0.12", true));
    await until(() => hosts(provider).length === 2, "lobby-2 after the re-list");
    assert.deepEqual(hosts(provider), ["10.244.0.11:5520", "10.244.0.12:5520"]);
    assert.ok(provider.watchRestarts() >= 1, "the expired watch was restarted");
  } finally {
    provider.close();
    await server.close();
  }
});

Deno.test("agones observer over the API: a counter change and a state change show within 1 s", async () => {
  const server = FakeApiServer.start({ token: "t0ken" });
  server.add(GAMESERVERS, api(gsJson));
  const a = agonesSettings(
    '{ namespaces: [hytale], selector: { labels: "agones.dev/fleet=hytale" } }',
  );
  const { open, until } = apiSources(server);
  const provider = new AgonesObserver("fleet", a, open);
  const players = () => provider.snapshot()[0]?.meta?.["counter.players.count"];
  try {
    await until(() => provider.ready() && players() === "37", "first list");
    const busier = structuredClone(gsJson);
    busier.status.counters.players.count = 80;
    server.modify(GAMESERVERS, api(busier));
    await until(() => players() === "80", "players counter 80");
    const allocated = structuredClone(gsJson);
    allocated.status.state = "Allocated";
    server.modify(GAMESERVERS, api(allocated));
    await until(() => provider.snapshot().length === 0, "Allocated leaves the Ready set");
  } finally {
    provider.close();
    await server.close();
  }
});
