/**
 * Credentials never cross plain HTTP by accident: a `http://` API server with a token, token
 * file or client certificate is refused at load, naming the provider and the kubeconfig, unless
 * the provider sets `insecure_http: true` — then it works and is logged at warn on every start
 * and reload that applies it.
 */
import assert from "node:assert/strict";
import { parseConfig } from "../../../src/config/mod.ts";
import {
  Discovery,
  DiscoveryError,
  kubeApiSources,
  KubeConfigError,
} from "../../../src/discovery/mod.ts";
import { KubeClient } from "../../../src/discovery/kube/client.ts";
import { loadKubeConnection } from "../../../src/discovery/kube/kubeconfig.ts";
import { Logger } from "../../../src/observability/mod.ts";
import { FakeApiServer, plainConnection } from "../fake_api_server.ts";

const CERT = "-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\n";

Deno.test("KubeClient: credentials to a plain http:// server are refused, naming the kubeconfig and server", async () => {
  const text = [
    "current-context: ctx",
    "contexts: [{ name: ctx, context: { cluster: prod, user: u } }]",
    'clusters: [{ name: prod, cluster: { server: "http://10.0.0.1:8080" } }]',
    "users: [{ name: u, user: { token: s3cret } }]",
  ].join("\n");
  const fs = { readTextFile: () => Promise.resolve(text) };
  const conn = await loadKubeConnection("/etc/kube/config", { fs });
  assert.throws(() => new KubeClient(conn), (err: unknown) => {
    assert.ok(err instanceof KubeConfigError);
    assert.equal(err.code, "insecure");
    assert.equal(
      err.message,
      "kubeconfig /etc/kube/config context ctx (cluster prod): server http://10.0.0.1:8080 is " +
        "plain HTTP and the credentials (a token) would cross the network in clear text; use " +
        "https://, or set insecure_http: true on the discovery provider to allow it",
    );
    assert.ok(!err.message.includes("s3cret"), "the token is not echoed");
    return true;
  });
  const each = [
    [{ tokenFile: "/tok" }, /\(a token file\)/],
    [{ clientCert: CERT, clientKey: "k" }, /\(a client certificate\)/],
    [{ token: "t", clientCert: CERT, clientKey: "k" }, /\(a token, a client certificate\)/],
  ] as const;
  for (const [extra, named] of each) {
    assert.throws(() => new KubeClient(plainConnection("http://h:1", extra)), named);
  }
  // No credentials, nothing to leak: plain HTTP stays allowed (e.g. `kubectl proxy`).
  const anonymous = new KubeClient(plainConnection("http://127.0.0.1:8001"));
  assert.equal(anonymous.insecure, null);
  const allowed = new KubeClient(conn, { insecureHttp: true });
  assert.match(allowed.insecure ?? "", /plain HTTP/);
});

const config = (insecure: string) =>
  parseConfig(
    `discovery:
  providers:
    - name: k8s
      type: kubernetes${insecure}
      kubernetes: { kubeconfig: /etc/kube/config, resources: [{ kind: pods }] }
`,
    "t.yaml",
  ).discovery.providers;

Deno.test("Discovery: an http:// API server with a token fails to start naming the provider, unless insecure_http", async () => {
  const server = FakeApiServer.start({ token: "t0ken" });
  const lines: string[] = [];
  const logger = new Logger({
    level: "info",
    format: "json",
    sink: { write: (line) => void lines.push(line), now: () => new Date(0) },
  });
  const sources = kubeApiSources(() =>
    Promise.resolve(
      plainConnection(server.url, { token: "t0ken", source: "kubeconfig /etc/kube/config" }),
    )
  );
  try {
    await assert.rejects(Discovery.start(config(""), logger, sources), (err: unknown) => {
      assert.ok(err instanceof DiscoveryError);
      assert.match(
        err.message,
        /^discovery provider "k8s": kubeconfig \/etc\/kube\/config: server http:\/\/127\.0\.0\.1:\d+ is plain HTTP/,
      );
      return true;
    });
    assert.equal(server.requests.length, 0);
    const allowed = config("\n      insecure_http: true");
    const readFile = () => Promise.resolve("the same kubeconfig"); // for the reuse check
    const first = await Discovery.start(allowed, logger, sources, { readFile });
    assert.ok(await first.waitReady(5_000));
    assert.equal(server.requests[0]?.authorization, "Bearer t0ken");
    // A reload that keeps the provider says it again.
    const second = await Discovery.start(allowed, logger, sources, { previous: first, readFile });
    assert.deepEqual(second.reused, ["k8s"]);
    first.close();
    second.close();
    const warnings = lines.map((l) => JSON.parse(l)).filter((l) => l.level === "warn");
    assert.equal(warnings.length, 2);
    for (const w of warnings) {
      assert.equal(w.msg, "discovery credentials over plain HTTP (insecure_http: true)");
      assert.equal(w.provider, "k8s");
      assert.match(w.detail, /plain HTTP and the credentials \(a token\)/);
    }
  } finally {
    await server.close();
  }
});
