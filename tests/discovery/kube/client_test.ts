import assert from "node:assert/strict";
import { KubeApiError, KubeClient, type TlsPem } from "../../../src/discovery/kube/client.ts";
import { KubeConfigError, loadKubeConnection } from "../../../src/discovery/kube/kubeconfig.ts";
import { generateSelfSigned } from "../../../src/server/mod.ts";
import { FakeApiServer, plainConnection } from "../fake_api_server.ts";
import { makeCa } from "./test_pki.ts";
import tls from "node:tls";

const CA_PEM = "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n";
const CERT_PEM = "-----BEGIN CERTIFICATE-----\nCLIENT\n-----END CERTIFICATE-----\n";
const KEY_PEM = "-----BEGIN PRIVATE KEY-----\nKEY\n-----END PRIVATE KEY-----\n";

/** An in-memory file system: path → text; `reads` counts reads per path. */
function memFs(files: Record<string, string>) {
  const reads = new Map<string, number>();
  return {
    files,
    reads,
    readTextFile(path: string): Promise<string> {
      reads.set(path, (reads.get(path) ?? 0) + 1);
      const text = files[path];
      return text === undefined
        ? Promise.reject(new Deno.errors.NotFound(`no ${path}`))
        : Promise.resolve(text);
    },
  };
}

/** A kubeconfig with one context `ctx` using cluster `c` and user `u`. */
function kubeconfig(cluster: string, user: string, namespace = ""): string {
  return [
    "apiVersion: v1",
    "kind: Config",
    "current-context: ctx",
    "contexts:",
    "  - name: other",
    "    context: { cluster: nope, user: nope }",
    "  - name: ctx",
    `    context: { cluster: c, user: u${namespace ? `, namespace: ${namespace}` : ""} }`,
    "clusters:",
    `  - name: c`,
    `    cluster: ${cluster}`,
    "users:",
    "  - name: u",
    `    user: ${user}`,
    "",
  ].join("\n");
}

const b64 = (s: string) => btoa(s);

Deno.test("kubeconfig: server, token and namespace of the current context", async () => {
  const fs = memFs({
    "/k/config": kubeconfig("{ server: 'https://api.example:6443/' }", "{ token: abc }", "hytale"),
  });
  const conn = await loadKubeConnection("/k/config", { fs });
  assert.equal(conn.server, "https://api.example:6443");
  assert.equal(conn.token, "abc");
  assert.equal(conn.tokenFile, null);
  assert.equal(conn.namespace, "hytale");
  assert.equal(conn.caCert, null);
  assert.equal(conn.insecureSkipTlsVerify, false);
  assert.equal(conn.source, "kubeconfig /k/config context ctx (cluster c)");
});

Deno.test("kubeconfig: CA, client certificate and key from base64 data", async () => {
  const cluster = `{ server: 'https://a:1', certificate-authority-data: ${b64(CA_PEM)} }`;
  const user = `{ client-certificate-data: ${b64(CERT_PEM)}, client-key-data: ${b64(KEY_PEM)} }`;
  const conn = await loadKubeConnection("/k/config", {
    fs: memFs({ "/k/config": kubeconfig(cluster, user) }),
  });
  assert.equal(conn.caCert, CA_PEM);
  assert.equal(conn.clientCert, CERT_PEM);
  assert.equal(conn.clientKey, KEY_PEM);
  assert.equal(conn.token, null);
});

Deno.test("kubeconfig: CA, certificate, key and token files, relative to the kubeconfig", async () => {
  const cluster = "{ server: 'https://a:1', certificate-authority: ca.crt }";
  const user = "{ client-certificate: certs/c.pem, client-key: /abs/k.pem, tokenFile: tok }";
  const fs = memFs({
    "/k/config": kubeconfig(cluster, user),
    "/k/ca.crt": CA_PEM,
    "/k/certs/c.pem": CERT_PEM,
    "/abs/k.pem": KEY_PEM,
  });
  const conn = await loadKubeConnection("/k/config", { fs });
  assert.equal(conn.caCert, CA_PEM);
  assert.equal(conn.clientCert, CERT_PEM);
  assert.equal(conn.clientKey, KEY_PEM);
  assert.equal(conn.tokenFile, "/k/tok");
});

Deno.test("kubeconfig: a CA together with insecure-skip-tls-verify is a load error (as kubectl)", async () => {
  const cluster =
    `{ server: 'https://a:1', insecure-skip-tls-verify: true, certificate-authority-data: ${
      b64(CA_PEM)
    } }`;
  const user = `{ client-certificate-data: ${b64(CERT_PEM)}, client-key-data: ${b64(KEY_PEM)} }`;
  await assert.rejects(
    loadKubeConnection("/k/config", { fs: memFs({ "/k/config": kubeconfig(cluster, user) }) }),
    (e: unknown) =>
      e instanceof Error &&
      /kubeconfig \/k\/config context ctx \(cluster c\): certificate-authority and insecure-skip-tls-verify together/
        .test(e.message),
  );
});

Deno.test("kubeconfig: insecure-skip-tls-verify without a CA passes the client certificate only", async () => {
  const cluster = `{ server: 'https://a:1', insecure-skip-tls-verify: true }`;
  const user = `{ client-certificate-data: ${b64(CERT_PEM)}, client-key-data: ${b64(KEY_PEM)} }`;
  const conn = await loadKubeConnection("/k/config", {
    fs: memFs({ "/k/config": kubeconfig(cluster, user) }),
  });
  assert.equal(conn.insecureSkipTlsVerify, true);
  const seen: Array<Deno.CreateHttpClientOptions & TlsPem> = [];
  const client = new KubeClient(conn, { createHttpClient: (o) => recordClient(seen, o) });
  client.close();
  assert.deepEqual(seen, [{ cert: CERT_PEM, key: KEY_PEM }]);
});

Deno.test("KubeClient: with a CA, connections get it and the client certificate; fetch's client is not used", async () => {
  const ca = await makeCa("cluster CA");
  const cluster = `{ server: 'https://127.0.0.1:1', certificate-authority-data: ${b64(ca.pem)} }`;
  const user = `{ client-certificate-data: ${b64(CERT_PEM)}, client-key-data: ${b64(KEY_PEM)} }`;
  const conn = await loadKubeConnection("/k/config", {
    fs: memFs({ "/k/config": kubeconfig(cluster, user) }),
  });
  const seen: Array<Deno.CreateHttpClientOptions & TlsPem> = [];
  const connects: tls.ConnectionOptions[] = [];
  const client = new KubeClient(conn, {
    createHttpClient: (o) => recordClient(seen, o),
    tlsConnect: (o) => (connects.push(o), tls.connect(o)),
  });
  await assert.rejects(client.get("/api/v1/pods"), KubeApiError); // nothing listens on port 1
  client.close();
  assert.deepEqual(seen, []);
  assert.deepEqual(
    connects.map((o) => [o.host, o.port, o.ca, o.cert, o.key]),
    [["127.0.0.1", 1, ca.pem, CERT_PEM, KEY_PEM]],
  );
});

function recordClient(
  seen: Array<Deno.CreateHttpClientOptions & TlsPem>,
  options: Deno.CreateHttpClientOptions & TlsPem,
): Deno.HttpClient {
  seen.push(options);
  return Deno.createHttpClient({});
}

Deno.test("kubeconfig: exec and auth-provider users are refused, naming the user", async () => {
  for (const user of ["{ exec: { command: aws } }", "{ auth-provider: { name: gcp } }"]) {
    const fs = memFs({ "/k/config": kubeconfig("{ server: 'https://a:1' }", user) });
    await assert.rejects(loadKubeConnection("/k/config", { fs }), (err: unknown) => {
      assert.ok(err instanceof KubeConfigError);
      assert.equal(err.code, "unsupported");
      assert.match(err.message, /user "u" uses an (exec|auth-provider) credential plugin/);
      return true;
    });
  }
});

Deno.test("kubeconfig: missing file, context, server and half a key pair are named", async () => {
  const cases: Array<[Record<string, string>, string, RegExp]> = [
    [{}, "read", /kubeconfig: cannot read \/k\/config/],
    [{ "/k/config": "current-context: zz\ncontexts: []\n" }, "missing", /no context named "zz"/],
    [{ "/k/config": kubeconfig("{}", "{}") }, "missing", /cluster "c" has no server/],
    [
      {
        "/k/config": kubeconfig(
          "{ server: 'https://a:1' }",
          `{ client-key-data: ${b64(KEY_PEM)} }`,
        ),
      },
      "missing",
      /needs both client-certificate and client-key/,
    ],
    [{ "/k/config": "a: [" }, "parse", /not valid YAML/],
  ];
  for (const [files, code, message] of cases) {
    await assert.rejects(loadKubeConnection("/k/config", { fs: memFs(files) }), (err: unknown) => {
      assert.ok(err instanceof KubeConfigError);
      assert.equal(err.code, code);
      assert.match(err.message, message);
      return true;
    });
  }
});

Deno.test("in-cluster: host and port from the environment, CA, token file and namespace", async () => {
  const dir = "/var/run/secrets/kubernetes.io/serviceaccount";
  const fs = memFs({ [`${dir}/ca.crt`]: CA_PEM, [`${dir}/namespace`]: "hytale\n" });
  const env = (name: string) =>
    ({ KUBERNETES_SERVICE_HOST: "fd00::1", KUBERNETES_SERVICE_PORT: "443" })[name];
  for (const kubeconfigSetting of [null, ""]) {
    const conn = await loadKubeConnection(kubeconfigSetting, { fs, env });
    assert.equal(conn.server, "https://[fd00::1]:443");
    assert.equal(conn.caCert, CA_PEM);
    assert.equal(conn.tokenFile, `${dir}/token`);
    assert.equal(conn.namespace, "hytale");
    assert.equal(conn.source, "in-cluster");
  }
  await assert.rejects(
    loadKubeConnection(null, { fs, env: () => undefined }),
    (err: unknown) => err instanceof KubeConfigError && err.code === "env",
  );
});

Deno.test("KubeClient: GET with a bearer token; a wrong token is a status error", async () => {
  const server = FakeApiServer.start({ token: "s3cret" });
  try {
    server.add("/api/v1/pods", { metadata: { name: "a", namespace: "hytale" } });
    const insecureHttp = { insecureHttp: true }; // the fake server speaks plain HTTP
    const client = new KubeClient(plainConnection(server.url, { token: "s3cret" }), insecureHttp);
    const list = await client.get("/api/v1/namespaces/hytale/pods", { limit: 10 }) as {
      items: unknown[];
    };
    assert.equal(list.items.length, 1);
    assert.equal(server.requests[0]?.authorization, "Bearer s3cret");
    assert.equal(server.requests[0]?.query.get("limit"), "10");
    const wrong = new KubeClient(plainConnection(server.url, { token: "nope" }), insecureHttp);
    await assert.rejects(wrong.get("/api/v1/pods"), (err: unknown) => {
      assert.ok(err instanceof KubeApiError);
      assert.equal(err.code, "status");
      assert.equal(err.status, 401);
      assert.equal(err.path, "/api/v1/pods");
      assert.match(err.message, /GET \/api\/v1\/pods: HTTP 401: Unauthorized/);
      return true;
    });
  } finally {
    await server.close();
  }
});

Deno.test("KubeClient: a token file is re-read after the refresh period and after a 401", async () => {
  const server = FakeApiServer.start({ token: "one" });
  try {
    const fs = memFs({ "/tok": "one\n" });
    let now = 0;
    const conn = plainConnection(server.url, { tokenFile: "/tok" });
    const deps = { fs, now: () => now, tokenRefreshMs: 60_000, insecureHttp: true };
    const client = new KubeClient(conn, deps);
    await client.get("/api/v1/pods");
    await client.get("/api/v1/pods");
    assert.equal(fs.reads.get("/tok"), 1);
    // Rotated: the cached token is refused once, then the file is read again.
    fs.files["/tok"] = "two";
    server.token = "two";
    await assert.rejects(client.get("/api/v1/pods"), (e: unknown) => e instanceof KubeApiError);
    await client.get("/api/v1/pods");
    assert.equal(fs.reads.get("/tok"), 2);
    // Rotated again: read once the refresh period has passed, without a 401.
    fs.files["/tok"] = "three";
    server.token = "three";
    now = 60_000;
    await client.get("/api/v1/pods");
    assert.equal(fs.reads.get("/tok"), 3);
    // A briefly missing file keeps the last token.
    delete fs.files["/tok"];
    now = 120_000;
    await client.get("/api/v1/pods");
    assert.equal(server.requests.at(-1)?.authorization, "Bearer three");
    const noFile = plainConnection(server.url, { tokenFile: "/none" });
    const none = new KubeClient(noFile, { fs, insecureHttp: true });
    await assert.rejects(none.get("/api/v1/pods"), (e: unknown) => {
      return e instanceof KubeApiError && e.code === "token";
    });
  } finally {
    await server.close();
  }
});

Deno.test("KubeClient: network and parse errors are typed and name the path", async () => {
  const server = FakeApiServer.start();
  const url = server.url;
  await server.close();
  const gone = new KubeClient(plainConnection(url));
  await assert.rejects(gone.get("/api/v1/pods"), (err: unknown) => {
    return err instanceof KubeApiError && err.code === "network" && err.status === null &&
      err.message.startsWith("GET /api/v1/pods: ");
  });
  const html = new KubeClient(plainConnection("http://x"), {
    fetch: () => Promise.resolve(new Response("<html>", { status: 200 })),
  });
  await assert.rejects(html.get("/api/v1/pods"), (err: unknown) => {
    return err instanceof KubeApiError && err.code === "parse" &&
      /\/api\/v1\/pods/.test(err.message);
  });
});

Deno.test("KubeClient: POST creates a GameServerAllocation", async () => {
  const server = FakeApiServer.start();
  try {
    const client = new KubeClient(plainConnection(server.url));
    const path = "/apis/allocation.agones.dev/v1/namespaces/hytale/gameserverallocations";
    const body = {
      apiVersion: "allocation.agones.dev/v1",
      kind: "GameServerAllocation",
      spec: { required: { matchLabels: { "agones.dev/fleet": "hytale" } } },
    };
    const result = await client.post(path, body) as { status: { address: string } };
    assert.equal(result.status.address, "203.0.113.7");
    assert.deepEqual(server.allocations, [body]);
    assert.equal(server.requests[0]?.method, "POST");
  } finally {
    await server.close();
  }
});

Deno.test("KubeClient: HTTPS to a server whose self-signed certificate is the configured CA", async () => {
  const tls = await generateSelfSigned();
  const server = FakeApiServer.start({ tls, token: "t" });
  const client = new KubeClient(plainConnection(server.url, { caCert: tls.cert, token: "t" }));
  try {
    server.add("/apis/agones.dev/v1/gameservers", { metadata: { name: "gs", namespace: "n" } });
    const list = await client.get("/apis/agones.dev/v1/gameservers") as { items: unknown[] };
    assert.equal(list.items.length, 1);
    assert.ok(server.url.startsWith("https://"));
  } finally {
    client.close();
    await server.close();
  }
});
