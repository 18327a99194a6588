/** The Kubernetes manifests in deploy/: the ConfigMap's config loads, and RBAC covers discovery. */
import assert from "node:assert/strict";
import { parseAllDocuments } from "yaml";
import { parseConfig } from "../../src/config/mod.ts";

const DIR = new URL("../../deploy/kubernetes/", import.meta.url);

async function documents(name: string): Promise<Record<string, unknown>[]> {
  const text = await Deno.readTextFile(new URL(name, DIR));
  return parseAllDocuments(text).map((d) => d.toJS() as Record<string, unknown>);
}

Deno.test("deploy: the ConfigMap's config.yaml is a valid Gatehouse config with discovery", async () => {
  const [configMap] = await documents("configmap.yaml");
  const text = (configMap?.data as Record<string, string>)["config.yaml"];
  assert.ok(text, "data.config.yaml");
  const config = parseConfig(text, "configmap/config.yaml");
  assert.deepEqual(config.discovery.providers.map((p) => p.type), ["kubernetes"]);
  assert.equal(config.routing.default?.discovery?.provider, "lobby");
  assert.equal(config.admin.listen?.port, 9090);
});

Deno.test("deploy: RBAC grants what discovery reads and creates, the Deployment uses it", async () => {
  const docs = await documents("rbac.yaml");
  const role = docs.find((d) => d.kind === "ClusterRole");
  const rules = role?.rules as { apiGroups: string[]; resources: string[]; verbs: string[] }[];
  const can = (group: string, resource: string, verb: string) =>
    rules.some((r) =>
      r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb)
    );
  for (const verb of ["get", "list", "watch"]) {
    assert.ok(can("", "pods", verb), `pods ${verb}`);
    assert.ok(can("discovery.k8s.io", "endpointslices", verb), `endpointslices ${verb}`);
    assert.ok(can("agones.dev", "gameservers", verb), `gameservers ${verb}`);
  }
  assert.ok(can("allocation.agones.dev", "gameserverallocations", "create"));
  const account = docs.find((d) => d.kind === "ServiceAccount")?.metadata as { name: string };
  const [deployment] = await documents("deployment.yaml");
  const spec = (deployment?.spec as { template: { spec: Record<string, unknown> } }).template.spec;
  assert.equal(spec.serviceAccountName, account.name);
  // A directory mount (no subPath): ConfigMap updates swap `..data`, which live reload sees.
  const mounts =
    (spec.containers as { volumeMounts: { mountPath: string; subPath?: string }[] }[])[0]!
      .volumeMounts;
  const config = mounts.find((m) => m.mountPath === "/etc/gatehouse");
  assert.ok(config && config.subPath === undefined);
});

Deno.test("deploy: the replicas share their runtime state through one ConfigMap RBAC allows", async () => {
  const [configMap] = await documents("configmap.yaml");
  const text = (configMap?.data as Record<string, string>)["config.yaml"]!;
  const state = parseConfig(text, "configmap/config.yaml").admin.stateConfigMap;
  assert.ok(state, "admin.state_config_map");
  const docs = await documents("rbac.yaml");
  const role = docs.find((d) => d.kind === "Role");
  const meta = role?.metadata as { name: string; namespace: string };
  assert.equal(meta.namespace, state.namespace);
  const rules = role?.rules as { resources: string[]; resourceNames?: string[]; verbs: string[] }[];
  const named = rules.find((r) => r.resourceNames?.includes(state.name));
  assert.deepEqual(named?.verbs, ["get", "list", "watch", "update"]);
  assert.ok(rules.some((r) => r.resources.includes("configmaps") && r.verbs.includes("create")));
  const binding = docs.find((d) => d.kind === "RoleBinding");
  assert.equal((binding?.roleRef as { name: string }).name, meta.name);
  const [deployment] = await documents("deployment.yaml");
  const spec = (deployment?.spec as { template: { spec: Record<string, unknown> } }).template.spec;
  const env = (spec.containers as { env?: { name: string }[] }[])[0]!.env ?? [];
  assert.ok(env.some((e) => e.name === "POD_NAME"), "POD_NAME names the replica");
});
