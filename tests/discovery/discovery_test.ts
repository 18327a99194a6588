import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/mod.ts";
import { Discovery, DiscoveryError, type SourceOpener } from "../../src/discovery/mod.ts";
import { silentLogger } from "../support/logger.ts";
import { fakeFactory, NO_ALLOCATIONS } from "./fake_sources.ts";
import allocationJson from "../fixtures/discovery/allocation.json" with { type: "json" };
import podJson from "../fixtures/discovery/pod.json" with { type: "json" };

const PROVIDERS = `
discovery:
  providers:
    - name: k8s
      type: kubernetes
      kubernetes: { namespaces: [hytale], resources: [ { kind: pods, port: { name: game } } ] }
    - name: fleet
      type: agones
      agones: { kubeconfig: /etc/kube/config, namespaces: [hytale] }
`;

function opener() {
  const fake = fakeFactory();
  const asked: Array<string | null> = [];
  let released = 0;
  const open: SourceOpener = (kubeconfig) => {
    asked.push(kubeconfig);
    return Promise.resolve({
      open: fake.open,
      createAllocation: NO_ALLOCATIONS,
      close: () => void released++,
    });
  };
  return { open, fake, asked, released: () => released };
}

Deno.test("Discovery: providers start per config, discovered/ready per name, close releases all", async () => {
  const providers = parseConfig(PROVIDERS, "t.yaml").discovery.providers;
  const o = opener();
  const discovery = await Discovery.start(providers, silentLogger(), o.open);
  assert.deepEqual(discovery.names, ["k8s", "fleet"]);
  assert.deepEqual(o.asked, [null, "/etc/kube/config"]);
  assert.equal(discovery.ready("k8s"), false);
  assert.deepEqual(discovery.discovered("k8s"), []);
  assert.throws(() => discovery.discovered("nope"), /no discovery provider named "nope"/);
  const [pods, gameservers] = o.fake.sources;
  pods!.set([podJson]);
  assert.equal(discovery.ready("k8s"), true);
  assert.equal(discovery.ready("fleet"), false);
  assert.deepEqual(discovery.discovered("k8s").map((b) => b.host), ["10.244.1.17"]);
  const waiting = discovery.waitReady(60_000);
  gameservers!.set([]);
  assert.equal(await waiting, true);
  discovery.close();
  assert.ok(o.fake.sources.every((s) => s.closed));
  assert.equal(o.released(), 2);
});

Deno.test("Discovery: waitReady gives up after its bound, and on close", async () => {
  const providers = parseConfig(PROVIDERS, "t.yaml").discovery.providers;
  const discovery = await Discovery.start(providers, silentLogger(), opener().open);
  assert.equal(await discovery.waitReady(1), false);
  const waiting = discovery.waitReady(60_000);
  discovery.close();
  assert.equal(await waiting, false);
});

Deno.test("Discovery: an agones allocate provider allocates per call; no watch, no snapshot", async () => {
  const yaml = PROVIDERS.replace(
    "namespaces: [hytale] }\n",
    "namespaces: [hytale], mode: allocate }\n",
  );
  const providers = parseConfig(yaml, "t.yaml").discovery.providers;
  const fake = fakeFactory();
  const posted: string[] = [];
  const open: SourceOpener = () =>
    Promise.resolve({
      open: fake.open,
      createAllocation: (namespace) => (posted.push(namespace), Promise.resolve(allocationJson)),
      close: () => {},
    });
  const discovery = await Discovery.start(providers, silentLogger(), open);
  try {
    assert.equal(fake.sources.length, 1, "only the kubernetes provider watches");
    assert.equal(discovery.allocator("k8s"), null);
    assert.equal(discovery.allocator("nope"), null);
    const allocate = discovery.allocator("fleet");
    assert.ok(allocate !== null);
    assert.equal(discovery.ready("fleet"), true);
    assert.deepEqual(discovery.discovered("fleet"), []);
    const backend = await allocate();
    assert.deepEqual([backend.host, backend.port], ["203.0.113.7", 7403]);
    assert.deepEqual(posted, ["hytale"]);
  } finally {
    discovery.close();
  }
});

Deno.test("Discovery: a provider without API access closes those started and names itself", async () => {
  const providers = parseConfig(PROVIDERS, "t.yaml").discovery.providers;
  const fake = fakeFactory();
  let released = 0;
  const open: SourceOpener = (kubeconfig) =>
    kubeconfig === null
      ? Promise.resolve({
        open: fake.open,
        createAllocation: NO_ALLOCATIONS,
        close: () => void released++,
      })
      : Promise.reject(new Error("cannot read /etc/kube/config"));
  await assert.rejects(Discovery.start(providers, silentLogger(), open), (err: unknown) => {
    assert.ok(err instanceof DiscoveryError);
    assert.equal(err.code, "connection");
    assert.match(err.message, /"fleet": cannot read \/etc\/kube\/config/);
    return true;
  });
  assert.equal(released, 1);
  assert.ok(fake.sources.every((s) => s.closed));
});

Deno.test("Discovery: a restart with unchanged providers shares them; changed kubeconfig contents start anew", async () => {
  const providers = parseConfig(PROVIDERS, "t.yaml").discovery.providers;
  const o = opener();
  const files: Record<string, string> = { "/etc/kube/config": "token: a" };
  const readFile = (path: string) => Promise.resolve(files[path] ?? "");
  const first = await Discovery.start(providers, silentLogger(), o.open, { readFile });
  const second = await Discovery.start(providers, silentLogger(), o.open, {
    previous: first,
    readFile,
  });
  assert.deepEqual(second.reused, ["k8s", "fleet"]);
  assert.deepEqual(o.asked, [null, "/etc/kube/config"], "no new API access opened");
  // A shared provider that syncs later wakes the new holder's waiters too.
  const waiting = second.waitReady(60_000);
  for (const source of o.fake.sources) source.set([]);
  assert.equal(await waiting, true);
  first.close();
  assert.ok(o.fake.sources.every((s) => !s.closed), "still held by the second");
  assert.equal(o.released(), 0);
  files["/etc/kube/config"] = "token: b";
  const third = await Discovery.start(providers, silentLogger(), o.open, {
    previous: second,
    readFile,
  });
  assert.deepEqual(third.reused, ["k8s"], "fleet's kubeconfig file changed");
  second.close();
  assert.equal(o.released(), 1, "the old fleet provider is released with its last holder");
  third.close();
  assert.equal(o.released(), 3);
  assert.ok(o.fake.sources.every((s) => s.closed));
});
