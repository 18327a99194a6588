/**
 * A configured CA is the only CA trusted: the chain check alone, then a fake API server whose
 * certificate comes from CA B while the kubeconfig names CA A — in this process, with a TLS layer
 * made to trust B, and in a child process that trusts B process-wide (`DENO_CERT`) and verifies
 * TLS (this test process runs with `--unsafely-ignore-certificate-errors`, the child does not).
 */
import assert from "node:assert/strict";
import tls from "node:tls";
import { KubeApiError, KubeClient } from "../../../src/discovery/kube/client.ts";
import {
  KubeConfigError,
  loadKubeConnection,
  SERVICE_ACCOUNT_DIR,
} from "../../../src/discovery/kube/kubeconfig.ts";
import { PinnedCa } from "../../../src/discovery/kube/trust.ts";
import { type ApiObject, FakeApiServer } from "../fake_api_server.ts";
import { makeCa, serverCert, type TestCa } from "./test_pki.ts";

const ROOT = new URL("../../../", import.meta.url).pathname;
const caA = await makeCa("CA A");
const caB = await makeCa("CA B");
const anchors = (...cas: TestCa[]) => new PinnedCa(cas.map((ca) => ca.pem).join("\n"));
const chainProblem = (chain: Uint8Array<ArrayBuffer>[], ca: PinnedCa, host: string, now: Date) =>
  ca.problem(chain, host, now);
const NOW = new Date();

Deno.test("PinnedCa: a server certificate from the pinned CA passes; another CA's does not", async () => {
  const fromA = await serverCert(caA);
  assert.equal(await chainProblem([fromA.der], anchors(caA), "127.0.0.1", NOW), null);
  assert.equal(await chainProblem([fromA.der], anchors(caB, caA), "localhost", NOW), null);
  const fromB = await serverCert(caB);
  assert.equal(
    await chainProblem([fromB.der, caB.der], anchors(caA), "127.0.0.1", NOW),
    "the server's certificate is not issued by the configured CA",
  );
});

Deno.test("PinnedCa: through a presented intermediate that is a CA, not around one", async () => {
  const intermediate = await makeCa("Intermediate", caA);
  const leaf = await serverCert(intermediate);
  assert.equal(
    await chainProblem([leaf.der, intermediate.der], anchors(caA), "localhost", NOW),
    null,
  );
  // Not presented: nothing links the server's certificate to A.
  assert.match(await chainProblem([leaf.der], anchors(caA), "localhost", NOW) ?? "", /not issued/);
  // A certificate that is not a CA cannot vouch for another, even signed by A.
  const notCa = await makeCa("not a CA", caA, false);
  const under = await serverCert(notCa);
  const problem = await chainProblem([under.der, notCa.der], anchors(caA), "localhost", NOW);
  assert.match(problem ?? "", /not issued/);
});

Deno.test("PinnedCa: dates and names are checked", async () => {
  const expired = await serverCert(caA, {
    notBefore: new Date(NOW.getTime() - 2 * 86_400_000),
    notAfter: new Date(NOW.getTime() - 86_400_000),
  });
  assert.match(
    await chainProblem([expired.der], anchors(caA), "localhost", NOW) ?? "",
    /expired at/,
  );
  const named = await serverCert(caA, {
    names: [{ type: "dns", value: "*.k8s.example" }, { type: "ip", value: "2001:db8::1" }],
  });
  const ok = (host: string) => chainProblem([named.der], anchors(caA), host, NOW);
  assert.equal(await ok("api.k8s.example"), null);
  assert.equal(await ok("API.K8S.EXAMPLE."), null);
  assert.equal(await ok("[2001:db8:0:0::1]"), null);
  for (const other of ["k8s.example", "a.api.k8s.example", "127.0.0.1", "2001:db8::2"]) {
    assert.match(await ok(other) ?? "", /not valid for/, other);
  }
  // A self-signed server certificate named as its own CA is accepted (kubeadm-style test setups).
  const self = await makeCa("self");
  const selfAsServer = await serverCert(self);
  assert.equal(await chainProblem([selfAsServer.der], anchors(self), "localhost", NOW), null);
});

Deno.test("KubeClient: a kubeconfig CA is the only CA trusted; the token never reaches another CA's server", async () => {
  const dir = await Deno.makeTempDir();
  const server = FakeApiServer.start({ tls: await serverCert(caB), token: "t0ken" });
  try {
    server.add("/api/v1/pods", { metadata: { name: "a", namespace: "hytale" } });
    const a = await clientFor(dir, "a", server.url, caA, "t0ken");
    await assert.rejects(a.get("/api/v1/pods"), (err: unknown) => {
      assert.ok(err instanceof KubeApiError && err.code === "network");
      assert.match(err.message, new RegExp(`API server ${server.url}: `));
      assert.match(
        err.message,
        /only the CA of kubeconfig .*kubeconfig-a context ctx \(cluster c\)/,
      );
      return true;
    });
    a.close();
    assert.equal(server.requests.length, 0, "nothing was sent to the server");
    const b = await clientFor(dir, "b", server.url, caB, "t0ken");
    assert.equal((await b.get("/api/v1/pods") as { items: unknown[] }).items.length, 1);
    assert.equal(server.requests[0]?.authorization, "Bearer t0ken");
    b.close();
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("KubeClient: a watch streams over a pinned connection and ends when aborted", async () => {
  const dir = await Deno.makeTempDir();
  const server = FakeApiServer.start({ tls: await serverCert(caA), token: "t0ken" });
  const client = await clientFor(dir, "a", server.url, caA, "t0ken");
  const stop = new AbortController();
  try {
    const list = await client.get("/api/v1/pods") as { metadata: { resourceVersion: string } };
    const query = { resourceVersion: list.metadata.resourceVersion };
    const stream = await client.watch("/api/v1/pods", query, stop.signal);
    server.add("/api/v1/pods", { metadata: { name: "late", namespace: "hytale" } });
    const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    const event = JSON.parse(text.split("\n")[0]!) as { type: string; object: ApiObject };
    assert.deepEqual([event.type, event.object.metadata.name], ["ADDED", "late"]);
    stop.abort();
    await assert.rejects(reader.read());
  } finally {
    client.close();
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("KubeClient: even a TLS layer that trusts B for the handshake does not let B's server in", async () => {
  const dir = await Deno.makeTempDir();
  const server = FakeApiServer.start({ tls: await serverCert(caB), token: "t0ken" });
  try {
    // As if `ca` were added to the process's roots (Deno's `caCerts` behaviour): B passes TLS.
    const additive = (o: tls.ConnectionOptions) =>
      tls.connect({ ...o, ca: [String(o.ca), caB.pem] });
    const conn = await connectionFor(dir, "a", server.url, caA, "t0ken");
    const client = new KubeClient(conn, { tlsConnect: additive });
    await assert.rejects(client.get("/api/v1/pods"), (err: unknown) => {
      assert.ok(err instanceof KubeApiError);
      assert.match(err.message, /the server's certificate is not issued by the configured CA/);
      return true;
    });
    client.close();
    assert.equal(server.requests.length, 0, "nothing was sent to the server");
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("KubeClient: the in-cluster ca.crt is the only CA trusted", async () => {
  const server = FakeApiServer.start({ tls: await serverCert(caB), token: "sa-token" });
  const port = new URL(server.url).port;
  const env = (name: string) =>
    ({ KUBERNETES_SERVICE_HOST: "127.0.0.1", KUBERNETES_SERVICE_PORT: port })[name];
  try {
    for (const [ca, works] of [[caA, false], [caB, true]] as const) {
      const files: Record<string, string> = {
        [`${SERVICE_ACCOUNT_DIR}/ca.crt`]: ca.pem,
        [`${SERVICE_ACCOUNT_DIR}/token`]: "sa-token",
      };
      const fs = { readTextFile: (p: string) => Promise.resolve(files[p] ?? "") };
      const client = new KubeClient(await loadKubeConnection(null, { fs, env }), { fs });
      const got = client.get("/api/v1/pods");
      if (works) await got;
      else await assert.rejects(got, /only the in-cluster ca\.crt is trusted/);
      client.close();
    }
    assert.equal(server.requests.length, 1, "only the client with B's ca.crt sent anything");
  } finally {
    await server.close();
  }
});

Deno.test("KubeClient: a CA bundle without a certificate is a load error naming the kubeconfig", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/a.pem`,
      "-----BEGIN CERTIFICATE-----\nbm9wZQ==\n-----END CERTIFICATE-----\n",
    );
    await Deno.writeTextFile(
      `${dir}/kubeconfig-a`,
      kubeconfigText("https://127.0.0.1:1", "a.pem", "t"),
    );
    const conn = await loadKubeConnection(`${dir}/kubeconfig-a`);
    assert.throws(() => new KubeClient(conn), (err: unknown) => {
      assert.ok(err instanceof KubeConfigError && err.code === "parse");
      assert.match(
        err.message,
        /kubeconfig .*kubeconfig-a context ctx \(cluster c\): the CA bundle certificate 1 cannot be parsed/,
      );
      return true;
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("pinned CA in a process that trusts CA B (DENO_CERT) and verifies TLS: B's server is refused under CA A, served under CA B", async () => {
  const dir = await Deno.makeTempDir();
  const server = FakeApiServer.start({ tls: await serverCert(caB), token: "token-b" });
  try {
    server.add("/api/v1/pods", { metadata: { name: "a", namespace: "hytale" } });
    await Deno.writeTextFile(`${dir}/a.pem`, caA.pem);
    await Deno.writeTextFile(`${dir}/b.pem`, caB.pem);
    await Deno.writeTextFile(`${dir}/kubeconfig-a`, kubeconfigText(server.url, "a.pem", "token-a"));
    // The -data form for B, so both kubeconfig spellings are covered.
    const b = kubeconfigText(server.url, null, "token-b").replace(
      "cluster: { server:",
      `cluster: { certificate-authority-data: ${btoa(caB.pem)}, server:`,
    );
    await Deno.writeTextFile(`${dir}/kubeconfig-b`, b);
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-prompt",
        `--allow-net=127.0.0.1:${new URL(server.url).port}`,
        `--allow-read=${dir}`,
        "--allow-env=LOG_TOKENS,LOG_STREAM,READABLE_STREAM",
        "tests/discovery/kube/pinned_ca_child.ts",
        server.url,
        dir,
      ],
      cwd: ROOT,
      env: { DENO_CERT: `${dir}/b.pem` },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(stderr);
    assert.equal(code, 0, err);
    const results = JSON.parse(new TextDecoder().decode(stdout)) as Record<string, string>;
    assert.match(results["fetch_with_ca_a"] ?? "", /^ok /, "the process trusts B (the premise)");
    assert.match(
      results["kube_client_a"] ?? "",
      new RegExp(`^error GET /api/v1/pods: API server ${server.url}: .*only the CA of kubeconfig`),
    );
    assert.equal(results["kube_client_b"], "ok 1");
    const tokens = server.requests.map((r) => r.authorization);
    assert.ok(!tokens.includes("Bearer token-a"), "the token of kubeconfig-a was never sent");
    assert.ok(tokens.includes("Bearer token-b"));
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

/** A kubeconfig with context `ctx` → cluster `c` (CA file `ca` if given) and a token. */
function kubeconfigText(server: string, ca: string | null, token: string): string {
  const caField = ca === null ? "" : `, certificate-authority: ${ca}`;
  return [
    "current-context: ctx",
    "contexts: [{ name: ctx, context: { cluster: c, user: u } }]",
    `clusters: [{ name: c, cluster: { server: "${server}"${caField} } }]`,
    `users: [{ name: u, user: { token: ${token} } }]`,
    "",
  ].join("\n");
}

async function connectionFor(dir: string, name: string, url: string, ca: TestCa, token: string) {
  await Deno.writeTextFile(`${dir}/${name}.pem`, ca.pem);
  const file = `${dir}/kubeconfig-${name}`;
  await Deno.writeTextFile(file, kubeconfigText(url, `${name}.pem`, token));
  return await loadKubeConnection(file);
}

async function clientFor(dir: string, name: string, url: string, ca: TestCa, token: string) {
  return new KubeClient(await connectionFor(dir, name, url, ca, token));
}

Deno.test("PinnedCa: a pinned certificate that is not a CA signs nothing", async () => {
  // `makeCa(name, issuer, isCa = false)`: a certificate with basicConstraints cA=false.
  const notCa = await makeCa("not a CA", undefined, false);
  const leaf = await serverCert(notCa);
  assert.match(
    await chainProblem([leaf.der], anchors(notCa), "localhost", NOW) ?? "",
    /not issued by the configured CA/,
  );
});
