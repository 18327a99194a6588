/**
 * `start` runs the router as a child with exactly the permissions its config needs: the flags
 * are computed from the config, the started router works with them (a WASM plugin loads and
 * answers), and a file beside the plugin stays unreadable to a process holding those flags.
 */
import { parseConfig } from "../../src/config/mod.ts";
import { computeGrants, netGrant, permissionFlags, SandboxError } from "../../src/cli/sandbox.ts";
import { programLocation, runLauncher } from "../../src/cli/launch.ts";
import { workerSourceFiles } from "../../src/plugins/wasm/process_command.ts";
import { assert, assertEquals } from "../support/assert.ts";
import { parseDisconnect } from "../support/hytale_client_codec.ts";
import { askConnect } from "../support/router_harness.ts";
import { fixture } from "../plugins/wasm/support.ts";
import { commandLine, onlyChildPid, startRouterProcess } from "../support/process_router.ts";
import { startTaskFlags } from "../support/start_task.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

const KUBECONFIG = `
apiVersion: v1
current-context: prod
contexts:
  - { name: other, context: { cluster: other, user: other } }
  - { name: prod, context: { cluster: prod, user: ops } }
clusters:
  - { name: other, cluster: { server: "https://10.9.9.9:6443" } }
  - { name: prod, cluster: { server: "https://k8s.example.internal:6443", certificate-authority: ca.crt } }
users:
  - { name: ops, user: { client-certificate: /etc/kube/ops.crt, client-key: keys/ops.key, tokenFile: tok } }
`;

const DISCOVERY_ROUTING = `
admin: { listen: "" }
routing: { default: { strategy: random, discovery: { provider: k8s } } }
`;

Deno.test("sandbox grants: a kubeconfig provider gets its API server and the files it names", () => {
  const config = parseConfig(
    `listen: "127.0.0.1:5520"
discovery:
  providers:
    - { name: k8s, type: kubernetes, kubernetes: { kubeconfig: kube/config, resources: [{ kind: pods }] } }
    - { name: fleet, type: agones, agones: { kubeconfig: /srv/gh/kube/config } }
${DISCOVERY_ROUTING}`,
    "/etc/gh/config.yaml",
  );
  const files = new Map([["/srv/gh/kube/config", KUBECONFIG]]);
  const grants = computeGrants(config, "/etc/gh/config.yaml", {
    cwd: "/srv/gh",
    workerSourceDir: null,
    kube: {
      readTextFile: (path) =>
        files.get(path) ?? (() => {
          throw new Error(`unexpected read ${path}`);
        })(),
      env: () => {
        throw new Error("no env read for a kubeconfig provider");
      },
    },
  });
  assertEquals(grants.read, [
    "/etc/gh",
    "/srv/gh/kube/config",
    "/srv/gh/kube/ca.crt",
    "/etc/kube/ops.crt",
    "/srv/gh/kube/keys/ops.key",
    "/srv/gh/kube/tok",
  ]);
  assertEquals(grants.net, ["127.0.0.1:5520", "k8s.example.internal:6443"]);
  assertEquals(grants.env, ["LOG_TOKENS", "LOG_STREAM", "READABLE_STREAM", "POD_NAME", "HOSTNAME"]);
});

Deno.test("sandbox grants: in-cluster uses the launcher's KUBERNETES_SERVICE_HOST:PORT and the service account", () => {
  const config = parseConfig(
    `listen: "127.0.0.1:5520"
discovery: { providers: [ { name: k8s, type: kubernetes, kubernetes: { resources: [{ kind: pods }] } } ] }
${DISCOVERY_ROUTING}`,
    "/etc/gh/config.yaml",
  );
  const env = new Map([["KUBERNETES_SERVICE_HOST", "10.96.0.1"], [
    "KUBERNETES_SERVICE_PORT",
    "443",
  ]]);
  const ctx = (lookup: (n: string) => string | undefined) => ({
    cwd: "/",
    workerSourceDir: null,
    kube: { readTextFile: () => "", env: lookup },
  });
  const grants = computeGrants(config, "/etc/gh/config.yaml", ctx((n) => env.get(n)));
  assertEquals(grants.read, ["/etc/gh", "/var/run/secrets/kubernetes.io/serviceaccount"]);
  assertEquals(grants.net, ["127.0.0.1:5520", "10.96.0.1:443"]);
  assertEquals(grants.env, [
    "LOG_TOKENS",
    "LOG_STREAM",
    "READABLE_STREAM",
    "POD_NAME",
    "HOSTNAME",
    "KUBERNETES_SERVICE_HOST",
    "KUBERNETES_SERVICE_PORT",
  ]);
  // Outside a cluster: no API address to grant (the router then reports the missing variables).
  assertEquals(computeGrants(config, "/etc/gh/config.yaml", ctx(() => undefined)).net, [
    "127.0.0.1:5520",
  ]);
});

/** The grants for one kubernetes provider on `kubeconfig` text (or in-cluster with `env`). */
function providerGrants(kubeconfig: string | null, env: Record<string, string> = {}) {
  const file = kubeconfig === null ? "" : "kubeconfig: /srv/gh/kube/config, ";
  const config = parseConfig(
    `listen: "127.0.0.1:5520"
discovery: { providers: [ { name: k8s, type: kubernetes, kubernetes: { ${file}resources: [{ kind: pods }] } } ] }
${DISCOVERY_ROUTING}`,
    "/etc/gh/config.yaml",
  );
  return computeGrants(config, "/etc/gh/config.yaml", {
    cwd: "/",
    workerSourceDir: null,
    kube: { readTextFile: () => kubeconfig ?? "", env: (name) => env[name] },
  });
}

Deno.test("sandbox grants: a kubeconfig server host with a comma is an error naming the provider, file and context, not a wider grant", () => {
  const comma = KUBECONFIG.replace(
    "k8s.example.internal:6443",
    "k8s.example.internal,evil.example:6443",
  );
  let grants: unknown = null;
  const err = assertThrowsSandbox(() => grants = providerGrants(comma));
  assertEquals(grants, null, "no grant at all");
  assertEquals(
    err.message,
    'cannot grant net access for discovery provider "k8s": the API server of kubeconfig ' +
      "/srv/gh/kube/config context prod (cluster prod): host " +
      '"k8s.example.internal,evil.example" is not a host name or an IP address',
  );
  // The same for the other characters a host must not carry, however they are spelled.
  const hosts = ["*.example.internal", "k8s%2Cevil.example", "k8s.example.internal."];
  for (const host of hosts.slice(0, 2)) {
    const text = KUBECONFIG.replace("k8s.example.internal:6443", `${host}:6443`);
    assertThrowsSandbox(() => providerGrants(text), /is not a host name or an IP address/);
  }
  // Not a URL at all (a space), or not http(s): named as such.
  for (const server of ["https://k8s example:6443", "tcp://k8s.example.internal:6443"]) {
    const text = KUBECONFIG.replace("https://k8s.example.internal:6443", server);
    assertThrowsSandbox(
      () => providerGrants(text),
      /discovery provider "k8s": kubeconfig \/srv\/gh\/kube\/config context prod \(cluster prod\): server ".*" is not a valid http\(s\) URL/,
    );
  }
  // A trailing dot is a fully qualified name; an IPv6 literal is bracketed.
  const fqdn = KUBECONFIG.replace("k8s.example.internal:6443", `${hosts[2]}:6443`);
  assertEquals(providerGrants(fqdn).net.at(-1), "k8s.example.internal.:6443");
  const v6 = KUBECONFIG.replace("k8s.example.internal:6443", "[fd00::1]:6443");
  assertEquals(providerGrants(v6).net.at(-1), "[fd00::1]:6443");
});

Deno.test("sandbox grants: in-cluster KUBERNETES_SERVICE_HOST/PORT are checked before they are granted", () => {
  const base = { KUBERNETES_SERVICE_HOST: "10.96.0.1", KUBERNETES_SERVICE_PORT: "443" };
  assertEquals(providerGrants(null, base).net, ["127.0.0.1:5520", "10.96.0.1:443"]);
  assertEquals(
    providerGrants(null, { ...base, KUBERNETES_SERVICE_HOST: "fd00::1" }).net.at(-1),
    "[fd00::1]:443",
  );
  const where =
    /^cannot grant net access for discovery provider "k8s": in-cluster \$KUBERNETES_SERVICE_HOST:\$KUBERNETES_SERVICE_PORT: /;
  for (
    const [env, problem] of [
      [{ KUBERNETES_SERVICE_HOST: "10.96.0.1,evil.example" }, /host "10.96.0.1,evil.example"/],
      [{ KUBERNETES_SERVICE_HOST: "10.96.0.1 evil.example" }, /is not a host name/],
      [{ KUBERNETES_SERVICE_HOST: "10.96.0.1/8" }, /is not a host name/],
      [{ KUBERNETES_SERVICE_PORT: "443,evil.example:443" }, /port "443,evil.example:443"/],
    ] as const
  ) {
    const err = assertThrowsSandbox(() => providerGrants(null, { ...base, ...env }), where);
    assert(problem.test(err.message), err.message);
  }
});

Deno.test("netGrant: host names and IP literals only; the port 1–65535 or none", () => {
  const ok: Array<[string, string | null, string]> = [
    ["127.0.0.1", "5520", "127.0.0.1:5520"],
    ["::", null, "[::]"],
    ["2001:db8::1", "443", "[2001:db8::1]:443"],
    ["api.k8s-1.example", "6443", "api.k8s-1.example:6443"],
    ["grpc_plugin", "7777", "grpc_plugin:7777"],
    ["localhost", null, "localhost"],
  ];
  for (const [host, port, entry] of ok) assertEquals(netGrant(host, port, "test"), entry);
  const bad: Array<[string, string | null]> = [
    ["", "443"],
    ["a,b", "443"],
    ["a b", "443"],
    ["a/b", "443"],
    ["*", null],
    ["*.example", "443"],
    ["-a.example", "443"],
    ["a..example", "443"],
    ["256.1.1.1", "443"],
    ["1.2.3", "443"],
    ["[::1]", "443"],
    ["fe80::1%eth0", "443"],
    ["x".repeat(64), "443"],
    ["a.example", "0"],
    ["a.example", "65536"],
    ["a.example", "443,b"],
    ["a.example", ""],
  ];
  for (const [host, port] of bad) {
    assertThrowsSandbox(
      () => netGrant(host, port, 'plugin "g" grpc.address'),
      /plugin "g" grpc.address/,
    );
  }
  // Grants assembled elsewhere are checked once more before they become a flag.
  const grants = { read: [], write: [], net: ["a.example,b.example:443"], env: [], run: [] };
  assertThrowsSandbox(
    () => permissionFlags(grants),
    /cannot grant net access to "a.example,b.example:443"/,
  );
});

Deno.test("start: a kubeconfig server host with a comma is reported by the launcher, which starts nothing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gatehouse-sandbox-comma-" });
  try {
    await Deno.writeTextFile(
      `${dir}/kubeconfig`,
      KUBECONFIG.replace("k8s.example.internal:6443", "10.0.0.1,evil.example:6443"),
    );
    await Deno.writeTextFile(
      `${dir}/config.yaml`,
      `listen: "127.0.0.1:0"
discovery: { providers: [ { name: k8s, type: kubernetes, kubernetes: { kubeconfig: ${dir}/kubeconfig, resources: [{ kind: pods }] } } ] }
${DISCOVERY_ROUTING}`,
    );
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (l: string) => void out.push(l), err: (l: string) => void err.push(l) };
    const location = {
      entry: "/nonexistent/never-started.ts",
      workerSourceDir: null,
      runFlags: [],
    };
    assertEquals(await runLauncher(`${dir}/config.yaml`, [], io, location), 1);
    assertEquals(out, []);
    assertEquals(err, [
      `gatehouse: cannot grant net access for discovery provider "k8s": the API server of ` +
      `kubeconfig ${dir}/kubeconfig context prod (cluster prod): host "10.0.0.1,evil.example" is not ` +
      "a host name or an IP address",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

function assertThrowsSandbox(fn: () => unknown, message?: RegExp): SandboxError {
  try {
    fn();
  } catch (err) {
    assert(err instanceof SandboxError, `expected a SandboxError, got ${err}`);
    if (message) assert(message.test(err.message), err.message);
    return err;
  }
  throw new Error("expected a SandboxError");
}

Deno.test("sandbox grants: an unreadable kubeconfig is granted alone (the router reports it)", () => {
  const config = parseConfig(
    `listen: "127.0.0.1:5520"
discovery: { providers: [ { name: k8s, type: kubernetes, kubernetes: { kubeconfig: /nope/config, resources: [{ kind: pods }] } } ] }
${DISCOVERY_ROUTING}`,
    "/etc/gh/config.yaml",
  );
  const grants = computeGrants(config, "/etc/gh/config.yaml", {
    cwd: "/",
    workerSourceDir: null,
    kube: {
      readTextFile: () => {
        throw new Deno.errors.NotFound("/nope/config");
      },
      env: () => undefined,
    },
  });
  assertEquals(grants.read, ["/etc/gh", "/nope/config"]);
  assertEquals(grants.net, ["127.0.0.1:5520"]);
});

Deno.test("sandbox grants: config dir, TLS files, WASM modules; listen, admin and gRPC addresses", () => {
  const config = parseConfig(
    `
listen: ":5520"
tls: { cert_file: certs/tls.crt, key_file: /etc/gh/tls.key }
admin: { listen: "127.0.0.1:9091" }
routing: { default: { strategy: round_robin, backends: [{ host: a.internal, port: 5520 }] } }
plugins:
  - { name: w, type: wasm, stage: mutate, wasm: { path: ../plugins/w.wasm } }
  - { name: g, type: grpc, stage: deny, grpc: { address: "10.0.0.5:7777" } }
`,
    "conf/gatehouse.yaml",
  );
  const grants = computeGrants(config, "conf/gatehouse.yaml", {
    cwd: "/srv/gh",
    workerSourceDir: "/opt/src/plugins/wasm",
  });
  assertEquals(grants.read, [
    "/srv/gh/conf",
    "/srv/gh/certs/tls.crt",
    "/etc/gh/tls.key",
    "/srv/plugins/w.wasm",
    "/opt/src/plugins/wasm",
  ]);
  assertEquals(grants.net, ["[::]:5520", "127.0.0.1:9091", "10.0.0.5:7777"]);
  assertEquals(permissionFlags(grants), [
    "--unstable-net",
    "--unstable-worker-options",
    "--no-prompt",
    "--allow-read=/srv/gh/conf,/srv/gh/certs/tls.crt,/etc/gh/tls.key,/srv/plugins/w.wasm,/opt/src/plugins/wasm",
    "--allow-net=[::]:5520,127.0.0.1:9091,10.0.0.5:7777",
    "--allow-env=LOG_TOKENS,LOG_STREAM,READABLE_STREAM,POD_NAME,HOSTNAME",
  ]);
});

Deno.test("sandbox grants: read on the admin token file, resolved beside the config", () => {
  const config = parseConfig(
    `
listen: "127.0.0.1:5520"
admin: { listen: "0.0.0.0:9091", token_file: secrets/admin.token }
routing: { default: { strategy: round_robin, backends: [{ host: a.internal, port: 5520 }] } }
`,
    "/srv/gh/conf/gatehouse.yaml",
  );
  const grants = computeGrants(config, "/srv/gh/conf/gatehouse.yaml", {
    cwd: "/elsewhere",
    workerSourceDir: null,
  });
  assertEquals(grants.read, ["/srv/gh/conf", "/srv/gh/conf/secrets/admin.token"]);
  assertEquals(grants.net, ["127.0.0.1:5520", "0.0.0.0:9091"]);
});

Deno.test("sandbox grants: port 0 grants the host only; no worker source without WASM plugins", () => {
  const config = parseConfig(
    `listen: "127.0.0.1:0"
admin: { listen: "" }
routing: { default: { strategy: round_robin, backends: [{ host: a.internal, port: 5520 }] } }
`,
    "/etc/gh/config.yaml",
  );
  const grants = computeGrants(config, "/etc/gh/config.yaml", {
    cwd: "/",
    workerSourceDir: "/opt/src/plugins/wasm",
  });
  // The worker's source is granted even without WASM plugins: a reload may add one.
  assertEquals(grants.read, ["/etc/gh", "/opt/src/plugins/wasm"]);
  assertEquals(grants.net, ["127.0.0.1"]);
});

Deno.test("sandbox grants: run on Deno only when a WASM plugin has isolation: process", () => {
  const yaml = (isolation: string) =>
    parseConfig(
      `listen: "127.0.0.1:5520"
admin: { listen: "" }
routing: { default: { strategy: round_robin, backends: [{ host: a.internal, port: 5520 }] } }
plugins:
  - { name: w, type: wasm, stage: mutate, wasm: { path: /p/w.wasm, isolation: ${isolation} } }
  - { name: v, type: wasm, stage: mutate, wasm: { path: /p/v.wasm, isolation: ${isolation} } }
`,
      "/etc/gh/config.yaml",
    );
  const ctx = { cwd: "/", workerSourceDir: null, execPath: "/opt/deno/bin/deno" };
  const worker = computeGrants(yaml("worker"), "/etc/gh/config.yaml", ctx);
  assertEquals(worker.run, []);
  assert(!permissionFlags(worker).some((f) => f.startsWith("--allow-run")));
  const processed = computeGrants(yaml("process"), "/etc/gh/config.yaml", ctx);
  assertEquals(processed.run, ["/opt/deno/bin/deno"]);
  assertEquals(processed.read, ["/etc/gh", "/p/w.wasm", "/p/v.wasm"]);
  assertEquals(permissionFlags(processed).at(-1), "--allow-run=/opt/deno/bin/deno");
  // By default the Deno running the launcher, which is what the router will run.
  const own = computeGrants(yaml("process"), "/etc/gh/config.yaml", {
    cwd: "/",
    workerSourceDir: null,
  });
  assertEquals(own.run, [Deno.execPath()]);
});

Deno.test("program location: from source the child runs main.ts; a bundle runs itself", () => {
  const src = programLocation("file:///opt/gh/src/cli/launch.ts");
  assertEquals(src, {
    entry: "/opt/gh/src/cli/main.ts",
    workerSourceDir: "/opt/gh/src/plugins/wasm",
    runFlags: [],
  });
  assertEquals(programLocation("file:///opt/gh/dist/gatehouse.js"), {
    entry: "/opt/gh/dist/gatehouse.js",
    workerSourceDir: null,
    runFlags: ["--no-config"],
  });
});

Deno.test("program location: every file the WASM workers load is under the granted folder", () => {
  // From source the router may read only `workerSourceDir` for worker code: a worker that
  // imports a file outside it fails to start in every sandboxed router (only in `start`).
  const { workerSourceDir } = programLocation();
  assert(workerSourceDir !== null);
  for (const worker of ["worker.ts", "prepare_worker.ts"]) {
    const url = new URL(`../../src/plugins/wasm/${worker}`, import.meta.url);
    for (const file of workerSourceFiles(url)) {
      assert(file.startsWith(`${workerSourceDir}/`), `${worker} loads ${file}`);
    }
  }
});

Deno.test("start: the router runs with exact grants; a file beside its WASM plugin is unreadable", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gatehouse-sandbox-" });
  await Deno.mkdir(`${dir}/conf`);
  await Deno.mkdir(`${dir}/plug`);
  const plugin = `${dir}/plug/echo.wasm`;
  const secret = `${dir}/plug/secret.txt`;
  await Deno.writeFile(plugin, await fixture("config_echo"));
  await Deno.writeTextFile(secret, "do not read");
  await Deno.writeTextFile(
    `${dir}/conf/config.yaml`,
    `listen: "127.0.0.1:0"
admin: { listen: "" }
routing: { default: { strategy: round_robin, backends: [{ host: a.internal, port: 5520 }] } }
plugins:
  - name: echo
    type: wasm
    stage: deny
    timeout: 2s
    wasm: { path: ${plugin}, config: { deny: true, deny_reason: "echo from the sandbox" } }
`,
  );
  const router = await startRouterProcess(
    [
      "run",
      ...await startTaskFlags(),
      "src/cli/main.ts",
      "start",
      "--config",
      `${dir}/conf/config.yaml`,
      "--log-format",
      "json",
    ],
    ROOT,
  );
  try {
    // The grants suffice: the worker starts from its source and loads the module.
    const reply = await askConnect(router.port, "play.example.com", "Krymo");
    assertEquals(parseDisconnect(reply.payload).reason, "echo from the sandbox");
    // The router process holds exactly the computed read grant ...
    const cmd = await commandLine(await onlyChildPid(router.pid));
    const read = cmd.find((a) => a.startsWith("--allow-read="))?.slice("--allow-read=".length);
    assert(read, `no --allow-read= in ${cmd.join(" ")}`);
    assertEquals(read.split(","), [`${dir}/conf`, plugin, `${ROOT}src/plugins/wasm`]);
    assert(!cmd.includes("--allow-read") && !cmd.includes("--allow-all"), cmd.join(" "));
    // ... under which the plugin is readable and the file beside it is not.
    const flags = cmd.slice(cmd.indexOf("run") + 1, cmd.indexOf("serve") - 1);
    const probe = await new Deno.Command(Deno.execPath(), {
      args: ["run", ...flags, "tests/cli/sandbox_probe.ts", plugin, secret],
      cwd: ROOT,
      stderr: "inherit",
    }).output();
    assertEquals(JSON.parse(new TextDecoder().decode(probe.stdout)), {
      [plugin]: "ok",
      [secret]: "NotCapable",
    });
  } finally {
    // SIGTERM reaches the launcher, which passes it on: the router shuts down gracefully.
    const code = await router.stop("SIGTERM");
    await Deno.remove(dir, { recursive: true });
    assertEquals(code, 0);
    assert(router.lines.some((l) => l.includes("shutting down")), router.lines.join("\n"));
  }
});

Deno.test("start: a process-isolated WASM plugin serves from a child with no permissions; the router may run only Deno", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gatehouse-sandbox-proc-" });
  const plugin = `${dir}/echo.wasm`;
  await Deno.writeFile(plugin, await fixture("config_echo"));
  await Deno.writeTextFile(
    `${dir}/config.yaml`,
    `listen: "127.0.0.1:0"
admin: { listen: "" }
routing: { default: { strategy: round_robin, backends: [{ host: a.internal, port: 5520 }] } }
plugins:
  - name: echo
    type: wasm
    stage: deny
    timeout: 2s
    wasm: { path: ${plugin}, isolation: process, config: { deny: true, deny_reason: "echo from a child process" } }
`,
  );
  const router = await startRouterProcess(
    [
      "run",
      ...await startTaskFlags(),
      "src/cli/main.ts",
      "start",
      "--config",
      `${dir}/config.yaml`,
      "--log-format",
      "json",
    ],
    ROOT,
  );
  try {
    const reply = await askConnect(router.port, "play.example.com", "Krymo");
    assertEquals(parseDisconnect(reply.payload).reason, "echo from a child process");
    const routerPid = await onlyChildPid(router.pid);
    const cmd = await commandLine(routerPid);
    assert(cmd.includes(`--allow-run=${Deno.execPath()}`), cmd.join(" "));
    assertEquals(
      cmd.find((a) => a.startsWith("--allow-read=")),
      `--allow-read=${dir},${plugin},${ROOT}src/plugins/wasm`,
    );
    // The plugin's child: read on the worker's own files only, nothing else.
    const child = await commandLine(await onlyChildPid(routerPid));
    assert(child.at(-1)!.endsWith("src/plugins/wasm/process_child_entry.ts"), child.join(" "));
    const allow = child.filter((a) => a.startsWith("--allow") || a === "-A");
    assertEquals(allow.length, 1, child.join(" "));
    const read = allow[0]!.slice("--allow-read=".length).split(",");
    assert(read.every((p) => p.startsWith(`${ROOT}src/plugins/wasm/`)), read.join(","));
  } finally {
    const code = await router.stop("SIGTERM");
    await Deno.remove(dir, { recursive: true });
    assertEquals(code, 0);
  }
});
