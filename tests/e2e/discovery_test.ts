/**
 * Discovery end to end: the real router with providers whose API is the fake API server. Pods:
 * a client is referred to the discovered pod, follows fleet changes within 1 s, and keeps being
 * served from the last good snapshot while the API fails. Agones observe: the least-filled
 * Ready GameServer. EndpointSlices: the ready endpoints of a Service. Agones allocate: one
 * GameServerAllocation per connection.
 */
import assert from "node:assert/strict";
import { kubeApiSources } from "../../src/discovery/mod.ts";
import { Metrics } from "../../src/observability/mod.ts";
import { parseSamples, sample } from "../observability/prom_text.ts";
import { type ApiObject, FakeApiServer, plainConnection } from "../discovery/fake_api_server.ts";
import { parseClientReferral, parseDisconnect } from "../support/hytale_client_codec.ts";
import { askConnect, startRouter } from "../support/router_harness.ts";
import podJson from "../fixtures/discovery/pod.json" with { type: "json" };
import gsJson from "../fixtures/discovery/gameserver.json" with { type: "json" };
import sliceJson from "../fixtures/discovery/endpointslice.json" with { type: "json" };

const PODS = "/api/v1/pods";
const REACT_MS = 1_000;
const CONFIG = `
listen: "127.0.0.1:0"
discovery:
  providers:
    - name: k8s
      type: kubernetes
      insecure_http: true   # the fake API server speaks plain HTTP and wants a token
      kubernetes:
        kubeconfig: /nonexistent/kubeconfig   # replaced by the fake API server's URL
        namespaces: [hytale]
        resources: [ { kind: pods, selector: { labels: "app=hytale" }, port: { name: game } } ]
        filters: { require_pod_ready: true }
routing:
  default:
    strategy: random
    discovery: { provider: k8s }
`;

function pod(name: string, ip: string, ready: boolean): ApiObject {
  const p = structuredClone(podJson);
  p.metadata.name = name;
  p.status.podIP = ip;
  for (const c of p.status.conditions) if (c.type === "Ready") c.status = ready ? "True" : "False";
  return p as unknown as ApiObject;
}

async function referredTo(port: number): Promise<string> {
  const reply = await askConnect(port, "play.example.com", "steve");
  const referral = parseClientReferral(reply.payload);
  return `${referral.host}:${referral.port}`;
}

/** Polls new connections until one is referred to `want`; fails after `ms`. */
async function untilReferredTo(port: number, want: string, ms = REACT_MS): Promise<void> {
  const started = performance.now();
  let seen = "";
  while ((seen = await referredTo(port)) !== want) {
    if (performance.now() - started > ms) {
      throw new Error(`not referred to ${want} within ${ms} ms (last: ${seen})`);
    }
  }
}

Deno.test("discovery e2e: pods provider → ClientReferral to the pod; changes within 1 s; API failure keeps the last snapshot", async () => {
  const api = FakeApiServer.start({ token: "t0ken" });
  api.add(PODS, pod("lobby-0", "10.244.0.10", true));
  api.add(PODS, pod("lobby-1", "10.244.0.11", false));
  const kubeconfigs: Array<string | null> = [];
  const sources = kubeApiSources((kubeconfig) => {
    kubeconfigs.push(kubeconfig);
    return Promise.resolve(plainConnection(api.url, { token: "t0ken" }));
  });
  const router = await startRouter(CONFIG, {}, undefined, undefined, sources);
  try {
    assert.deepEqual(kubeconfigs, ["/nonexistent/kubeconfig"]);
    // The router waits (bounded) for the first sync before it serves.
    assert.equal(await referredTo(router.port), "10.244.0.10:5520");
    api.delete(PODS, "hytale", "lobby-0");
    api.modify(PODS, pod("lobby-1", "10.244.0.11", true));
    await untilReferredTo(router.port, "10.244.0.11:5520");
    // The API fails every request; the watch breaks; the last good snapshot keeps serving.
    api.failNext(1_000);
    const requestsBefore = api.requests.length;
    api.dropWatches("close");
    await api.waitForRequest((r) => api.requests.indexOf(r) >= requestsBefore);
    for (let i = 0; i < 3; i++) assert.equal(await referredTo(router.port), "10.244.0.11:5520");
    assert.ok(
      router.logs.some((l) => l.includes('"provider":"k8s"')),
      "provider logs carry its name",
    );
  } finally {
    await router.close();
    await api.close();
  }
});

Deno.test("discovery e2e: dev/config.agones.observe.dev.yaml sends players to the least-filled Ready GameServer", async () => {
  const api = FakeApiServer.start();
  const GAMESERVERS = "/apis/agones.dev/v1/gameservers";
  const gameServer = (name: string, ip: string, players: number, state = "Ready") => {
    const gs = structuredClone(gsJson);
    gs.metadata.name = name;
    gs.status.state = state;
    gs.status.addresses = [{ type: "ExternalIP", address: ip }];
    gs.status.counters.players.count = players;
    return gs as unknown as ApiObject;
  };
  api.add(GAMESERVERS, gameServer("gs-a", "203.0.113.1", 40));
  api.add(GAMESERVERS, gameServer("gs-b", "203.0.113.2", 10));
  api.add(GAMESERVERS, gameServer("gs-c", "203.0.113.3", 0, "Allocated"));
  const text =
    (await Deno.readTextFile(new URL("../../dev/config.agones.observe.dev.yaml", import.meta.url)))
      .replace('listen: ":5520"', 'listen: "127.0.0.1:0"');
  const sources = kubeApiSources(() => Promise.resolve(plainConnection(api.url)));
  const metrics = new Metrics();
  const router = await startRouter(text, {}, undefined, metrics, sources);
  try {
    assert.equal(await referredTo(router.port), "203.0.113.2:7403", "fewest players among Ready");
    const samples = parseSamples(await metrics.render());
    assert.equal(sample(samples, "gatehouse_discovery_backends", { provider: "fleet" }), 2);
    assert.equal(sample(samples, "gatehouse_discovery_synced", { provider: "fleet" }), 1);
    assert.equal(sample(samples, "gatehouse_discovery_watch_restarts", { provider: "fleet" }), 0);
    api.modify(GAMESERVERS, gameServer("gs-b", "203.0.113.2", 90));
    await untilReferredTo(router.port, "203.0.113.1:7403");
  } finally {
    await router.close();
    await api.close();
  }
});

Deno.test("discovery e2e: dev/config.agones.allocate.dev.yaml allocates a game server per connection", async () => {
  const api = FakeApiServer.start();
  const text =
    (await Deno.readTextFile(new URL("../../dev/config.agones.allocate.dev.yaml", import.meta.url)))
      .replace('listen: ":5520"', 'listen: "127.0.0.1:0"');
  const sources = kubeApiSources(() => Promise.resolve(plainConnection(api.url)));
  const metrics = new Metrics();
  const router = await startRouter(text, {}, undefined, metrics, sources);
  const allocated = (ip: string, port: number) => ({
    state: "Allocated",
    gameServerName: `gs-${ip}`,
    ports: [{ name: "gameport", port }],
    addresses: [{ type: "InternalIP", address: "10.0.0.9" }, { type: "ExternalIP", address: ip }],
  });
  try {
    api.allocationStatus = allocated("203.0.113.21", 7403);
    assert.equal(await referredTo(router.port), "203.0.113.21:7403");
    api.allocationStatus = allocated("203.0.113.22", 7411);
    assert.equal(await referredTo(router.port), "203.0.113.22:7411", "a fresh allocation");
    assert.equal(api.allocations.length, 2, "one GameServerAllocation per connection");
    assert.deepEqual(api.allocations[0], {
      apiVersion: "allocation.agones.dev/v1",
      kind: "GameServerAllocation",
      metadata: { generateName: "gatehouse-" },
      spec: {
        gameServerState: "Ready",
        required: { matchLabels: { "agones.dev/fleet": "hytale" } },
      },
    });
    const posted = api.requests.filter((r) => r.method === "POST").map((r) => r.path);
    assert.deepEqual(posted, Array(2).fill(ALLOCATIONS));
    // No Ready GameServer left: Agones answers UnAllocated → the discovery_error Disconnect.
    api.allocationStatus = { state: "UnAllocated" };
    const reply = await askConnect(router.port, "play.example.com", "steve");
    assert.equal(reply.id, 1, "Disconnect");
    const samples = parseSamples(await metrics.render());
    const allocations = (result: string) =>
      sample(samples, "gatehouse_discovery_allocations", { provider: "matches", result });
    assert.deepEqual([allocations("ok"), allocations("failed")], [2, 1]);
    assert.equal(sample(samples, "gatehouse_discovery_synced", { provider: "matches" }), 1);
    const { reason } = parseDisconnect(reply.payload);
    assert.equal(
      reason,
      "The server is looking for an available instance. Please try again in a moment.",
    );
  } finally {
    await router.close();
    await api.close();
  }
  // The outcome line is written once the connection has ended; close() waits for that.
  const failure = router.logs.find((l) => l.includes('"outcome":"discovery_error"')) ?? "";
  assert.match(
    failure,
    /"reason":"default: discovery provider \\"matches\\": allocation failed: no game server allocated \(UnAllocated\)"/,
  );
});

const ALLOCATIONS = "/apis/allocation.agones.dev/v1/namespaces/hytale/gameserverallocations";

Deno.test("discovery e2e: dev/config.kubernetes.endpointslices.dev.yaml follows the Service's ready endpoints", async () => {
  const api = FakeApiServer.start();
  const SLICES = "/apis/discovery.k8s.io/v1/endpointslices";
  // Ready: 10.244.2.8 and 10.244.3.2 (no conditions = ready, as Kubernetes reads it); not:
  // 10.244.2.9. The other Service's slice must not be routed to.
  api.add(SLICES, structuredClone(sliceJson) as unknown as ApiObject);
  const other = structuredClone(sliceJson);
  other.metadata.labels["kubernetes.io/service-name"] = "another-service";
  other.metadata.name = "another-service-x1";
  other.endpoints[0]!.addresses = ["10.9.9.9"];
  api.add(SLICES, other as unknown as ApiObject);
  const text = (await Deno.readTextFile(
    new URL("../../dev/config.kubernetes.endpointslices.dev.yaml", import.meta.url),
  )).replace('listen: ":5520"', 'listen: "127.0.0.1:0"');
  const sources = kubeApiSources(() => Promise.resolve(plainConnection(api.url)));
  const router = await startRouter(text, {}, undefined, undefined, sources);
  try {
    const ready = new Set(["10.244.2.8:5520", "10.244.3.2:5520"]);
    for (let i = 0; i < 6; i++) assert.ok(ready.has(await referredTo(router.port)));
    const watched = api.requests.filter((r) => r.path.endsWith("/endpointslices"));
    assert.ok(
      watched.length > 0 &&
        watched.every((r) =>
          r.path === "/apis/discovery.k8s.io/v1/namespaces/hytale/endpointslices"
        ),
    );
    // Both ready endpoints start terminating; the third becomes ready.
    const changed = structuredClone(sliceJson);
    const [first, second, third] = changed.endpoints;
    first!.conditions = { ready: false, serving: true, terminating: true };
    second!.conditions = { ready: true, serving: true, terminating: false };
    third!.conditions = { ready: false, serving: false, terminating: true };
    api.modify(SLICES, changed as unknown as ApiObject);
    await untilReferredTo(router.port, "10.244.2.9:5520");
    for (let i = 0; i < 3; i++) assert.equal(await referredTo(router.port), "10.244.2.9:5520");
  } finally {
    await router.close();
    await api.close();
  }
});
