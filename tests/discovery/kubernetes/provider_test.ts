import assert from "node:assert/strict";
import { KubernetesProvider } from "../../../src/discovery/kubernetes/provider.ts";
import podJson from "../../fixtures/discovery/pod.json" with { type: "json" };
import sliceJson from "../../fixtures/discovery/endpointslice.json" with { type: "json" };
import { fakeFactory, hostPorts } from "../fake_sources.ts";
import { kubernetesSettings } from "../provider_config.ts";

Deno.test("kubernetes provider: one watch per resource and namespace, selectors sent to the API", () => {
  const { open, sources } = fakeFactory();
  const k = kubernetesSettings(
    `{ namespaces: [hytale, games], resources: [` +
      ` { kind: pods, selector: { labels: "app=hytale" }, port: { name: game } },` +
      ` { kind: endpointslices, service: { name: hytale-backend, namespace: hytale }, selector: { labels: "region=us" } },` +
      ` { kind: endpointslices } ] }`,
  );
  const provider = new KubernetesProvider("k8s", k, open);
  assert.deepEqual(
    sources.map((s) => [s.request.path, s.request.labelSelector]),
    [
      ["/api/v1/namespaces/hytale/pods", "app=hytale"],
      ["/api/v1/namespaces/games/pods", "app=hytale"],
      [
        "/apis/discovery.k8s.io/v1/namespaces/hytale/endpointslices",
        "kubernetes.io/service-name=hytale-backend,region=us",
      ],
      ["/apis/discovery.k8s.io/v1/namespaces/hytale/endpointslices", ""],
      ["/apis/discovery.k8s.io/v1/namespaces/games/endpointslices", ""],
    ],
  );
  provider.close();
  assert.ok(sources.every((s) => s.closed));
});

Deno.test("kubernetes provider: ready once every watch listed; snapshot follows changes", () => {
  const { open, sources } = fakeFactory();
  const k = kubernetesSettings(
    "{ resources: [ { kind: pods, port: { name: game } }, { kind: endpointslices, port: { name: game } } ] }",
  );
  const provider = new KubernetesProvider("k8s", k, open);
  const [pods, slices] = sources;
  assert.equal(sources.length, 2);
  assert.equal(sources[0]?.request.path, "/api/v1/pods", "no namespaces: cluster-wide");
  assert.equal(provider.ready(), false);
  assert.deepEqual(provider.snapshot(), []);
  pods!.set([podJson]);
  assert.equal(provider.ready(), false, "endpointslices not listed yet");
  assert.deepEqual(hostPorts(provider.snapshot()), ["10.244.1.17:5520"]);
  slices!.set([sliceJson]);
  assert.equal(provider.ready(), true);
  assert.deepEqual(hostPorts(provider.snapshot()), [
    "10.244.1.17:5520",
    "10.244.2.8:5520",
    "10.244.2.9:5520",
    "10.244.3.2:5520",
  ]);
  const before = provider.snapshot();
  pods!.set([]); // the pod was deleted
  assert.deepEqual(hostPorts(provider.snapshot()), [
    "10.244.2.8:5520",
    "10.244.2.9:5520",
    "10.244.3.2:5520",
  ]);
  assert.equal(before.length, 4, "an earlier snapshot is never mutated");
  assert.ok(Object.isFrozen(provider.snapshot()));
});
