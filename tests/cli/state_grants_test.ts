/**
 * The router's grants for the runtime state: read and write on exactly `admin.state_file` and
 * its `<file>.tmp` (enough for the lock, the write and the rename, and nothing beside them);
 * for `admin.state_config_map`, the API access discovery gets for the same `kubeconfig`.
 */
import { parseConfig } from "../../src/config/mod.ts";
import { computeGrants, permissionFlags } from "../../src/cli/sandbox.ts";
import { assert, assertEquals } from "../support/assert.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const ROUTING = "routing: { default: { strategy: random, backends: [{ host: a, port: 1 }] } }";

Deno.test("state grants: read and write on exactly the state file and its .tmp", () => {
  const config = parseConfig(
    `listen: "127.0.0.1:5520"\nadmin: { listen: "", state_file: ../run/state.json }\n${ROUTING}\n`,
    "/srv/gh/conf/config.yaml",
  );
  const grants = computeGrants(config, "/srv/gh/conf/config.yaml", {
    cwd: "/",
    workerSourceDir: null,
  });
  assertEquals(grants.write, ["/srv/gh/run/state.json", "/srv/gh/run/state.json.tmp"]);
  assertEquals(grants.read, [
    "/srv/gh/conf",
    "/srv/gh/run/state.json",
    "/srv/gh/run/state.json.tmp",
  ]);
  assertEquals(grants.env, ["LOG_TOKENS", "LOG_STREAM", "READABLE_STREAM", "POD_NAME", "HOSTNAME"]);
});

Deno.test("state grants: a state ConfigMap gets the API access of a discovery provider", () => {
  const config = parseConfig(
    `listen: "127.0.0.1:5520"
admin: { listen: "", state_config_map: { name: gatehouse-state, namespace: hytale } }
${ROUTING}
`,
    "/etc/gh/config.yaml",
  );
  const env = new Map([["KUBERNETES_SERVICE_HOST", "10.96.0.1"], [
    "KUBERNETES_SERVICE_PORT",
    "443",
  ]]);
  const grants = computeGrants(config, "/etc/gh/config.yaml", {
    cwd: "/",
    workerSourceDir: null,
    kube: { readTextFile: () => "", env: (n) => env.get(n) },
  });
  assertEquals(grants.net, ["127.0.0.1:5520", "10.96.0.1:443"]);
  assertEquals(grants.read, ["/etc/gh", "/var/run/secrets/kubernetes.io/serviceaccount"]);
  assert(grants.env.includes("KUBERNETES_SERVICE_HOST") && grants.env.includes("POD_NAME"));
  assertEquals(grants.write, []);
});

Deno.test("state grants: under exactly those flags the file store saves, and nothing beside", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gatehouse-state-grants-" });
  try {
    const configPath = `${dir}/conf/config.yaml`;
    await Deno.mkdir(`${dir}/conf`);
    await Deno.mkdir(`${dir}/run`);
    const text =
      `listen: "127.0.0.1:5520"\nadmin: { listen: "", state_file: ../run/state.json }\n${ROUTING}\n`;
    await Deno.writeTextFile(configPath, text);
    const grants = computeGrants(parseConfig(text, configPath), configPath, {
      cwd: ROOT,
      workerSourceDir: null,
    });
    // The probe's own source files are read too (they are not the router's grants).
    const flags = permissionFlags({ ...grants, read: [...grants.read, ROOT] });
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        ...flags,
        "tests/cli/state_file_probe.ts",
        `${dir}/run/state.json`,
        `${dir}/run/other`,
      ],
      cwd: ROOT,
      stderr: "inherit",
    }).output();
    assertEquals(JSON.parse(new TextDecoder().decode(out.stdout)), {
      saved: "a.internal:5520",
      other: "NotCapable",
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
