import assert from "node:assert/strict";
import type { EndpointSlice, Pod } from "../../../src/discovery/kube/objects.ts";
import { endpointSliceBackends, podBackend } from "../../../src/discovery/kubernetes/backends.ts";
import podJson from "../../fixtures/discovery/pod.json" with { type: "json" };
import sliceJson from "../../fixtures/discovery/endpointslice.json" with { type: "json" };
import { kubernetesSettings } from "../provider_config.ts";

const pod: Pod = podJson;
const slice: EndpointSlice = sliceJson;

function withPod(change: (p: typeof podJson) => void): Pod {
  const copy = structuredClone(podJson);
  change(copy);
  return copy;
}

Deno.test("pod: IP, named port, k8s meta, selected labels/annotations, annotation weight", () => {
  const k = kubernetesSettings(
    `{ resources: [ { kind: pods, selector: { labels: "app=hytale,region in (eu,us)", annotations: "hyrouter/enabled=true" }, port: { name: game } } ],` +
      ` filters: { require_pod_ready: true, require_pod_phase: [running] },` +
      ` metadata: { include_labels: [region, missing], include_annotations: [hyrouter/enabled] } }`,
  );
  const resource = k.resources[0]!;
  assert.equal(resource.kind, "pods");
  if (resource.kind !== "pods") return;
  assert.deepEqual({
    ...podBackend(pod, resource, k),
    meta: { ...podBackend(pod, resource, k)?.meta },
  }, {
    host: "10.244.1.17",
    port: 5520,
    weight: 5,
    meta: {
      "k8s.namespace": "hytale",
      "k8s.name": "hytale-lobby-7d9f8b6c5-x2k4q",
      "k8s.node": "node-eu-1",
      "label.region": "eu",
      "annotation.hyrouter/enabled": "true",
    },
  });
});

Deno.test("pod: port precedence container_port > number > name > first declared", () => {
  const port = (flow: string, p: Pod = pod) => {
    const k = kubernetesSettings(`{ resources: [ { kind: pods, port: ${flow} } ] }`);
    const r = k.resources[0]!;
    return r.kind === "pods" ? podBackend(p, r, k)?.port ?? null : undefined;
  };
  assert.equal(port("{ container_port: 7000, number: 7001, name: game }"), 7000);
  assert.equal(port("{ number: 7001, name: game }"), 7001);
  assert.equal(port("{ name: game }"), 5520);
  assert.equal(port("{}"), 9100, "no name configured: the first declared port");
  assert.equal(port("{ name: gaem }"), null, "a configured name that is missing skips the pod");
  assert.equal(port("{}", withPod((p) => (p.spec.containers = []))), null);
});

Deno.test("pod: filtered out without IP, in the wrong phase, not Ready, or off-selector", () => {
  const k = kubernetesSettings(
    `{ resources: [ { kind: pods, selector: { labels: "app=hytale", annotations: "hyrouter/enabled=true" } } ],` +
      ` filters: { require_pod_ready: true, require_pod_phase: [Running] } }`,
  );
  const r = k.resources[0]!;
  if (r.kind !== "pods") throw new Error("pods");
  assert.notEqual(podBackend(pod, r, k), null);
  const cases: Array<[string, Pod]> = [
    ["no IP", withPod((p) => (p.status.podIP = ""))],
    ["pending", withPod((p) => (p.status.phase = "Pending"))],
    ["not ready", withPod((p) => (p.status.conditions[3]!.status = "False"))],
    ["no Ready condition", withPod((p) => (p.status.conditions = p.status.conditions.slice(0, 3)))],
    ["label mismatch", withPod((p) => (p.metadata.labels.app = "web"))],
    ["annotation mismatch", withPod((p) => (p.metadata.annotations["hyrouter/enabled"] = "false"))],
  ];
  for (const [name, p] of cases) assert.equal(podBackend(p, r, k), null, name);
});

Deno.test("pod: weight is the annotation, else the label, else 1; only positive integers count", () => {
  const k = kubernetesSettings("{ resources: [ { kind: pods } ] }");
  const r = k.resources[0]!;
  if (r.kind !== "pods") throw new Error("pods");
  const weight = (p: Pod) => podBackend(p, r, k)?.weight;
  assert.equal(weight(pod), 5);
  assert.equal(weight(withPod((p) => (p.metadata.annotations["hyrouter/weight"] = "x"))), 3);
  assert.equal(weight(withPod((p) => (p.metadata.annotations["hyrouter/weight"] = "0"))), 3);
  assert.equal(
    weight(withPod((p) => {
      p.metadata.annotations["hyrouter/weight"] = "-2";
      p.metadata.labels["hyrouter/weight"] = "1.5";
    })),
    1,
  );
});

Deno.test("endpointslice: one backend per address, by port name, unready endpoints skipped", () => {
  const k = kubernetesSettings(
    `{ resources: [ { kind: endpointslices, service: { name: hytale-backend, namespace: hytale }, port: { name: game } } ],` +
      ` filters: { require_endpoint_ready: true }, metadata: { include_labels: [region] } }`,
  );
  const r = k.resources[0]!;
  if (r.kind !== "endpointslices") throw new Error("endpointslices");
  const found = endpointSliceBackends(slice, r, k).map((b) => ({ ...b, meta: { ...b.meta } }));
  const meta = {
    "k8s.namespace": "hytale",
    "k8s.name": "hytale-backend-abc12",
    "label.region": "us",
  };
  // 10.244.2.9 is ready=false; 10.244.3.2 has no ready condition, which counts as ready.
  assert.deepEqual(found, [
    { host: "10.244.2.8", port: 5520, weight: 1, meta },
    { host: "10.244.3.2", port: 5520, weight: 1, meta },
  ]);
});

Deno.test("endpointslice: other services and namespaces are ignored; port falls back to the first", () => {
  const hosts = (flow: string, filters = "{}") => {
    const k = kubernetesSettings(
      `{ resources: [ { kind: endpointslices, ${flow} } ], filters: ${filters} }`,
    );
    const r = k.resources[0]!;
    return r.kind === "endpointslices"
      ? endpointSliceBackends(slice, r, k).map((b) => `${b.host}:${b.port}`)
      : [];
  };
  assert.deepEqual(hosts("service: { name: other }"), []);
  assert.deepEqual(hosts("service: { name: hytale-backend, namespace: games }"), []);
  assert.deepEqual(hosts("selector: { labels: region=eu }"), []);
  assert.deepEqual(hosts("port: { name: nope }"), [
    "10.244.2.8:5521",
    "10.244.2.9:5521",
    "10.244.3.2:5521",
  ]);
  assert.deepEqual(hosts("port: { number: 6000 }, service: { name: hytale-backend }"), [
    "10.244.2.8:6000",
    "10.244.2.9:6000",
    "10.244.3.2:6000",
  ]);
});
