/**
 * The admin API (`/api/v1/*`) over real HTTP, served by `start`'s admin side attached to a router
 * started in-process: each endpoint's JSON, every access path, and the token kept out of the
 * logs and `/metrics`.
 */
import assert from "node:assert/strict";
import { AdminEndpoint } from "../../src/cli/admin.ts";
import { type Config, parseConfig } from "../../src/config/mod.ts";
import type { SourceOpener } from "../../src/discovery/mod.ts";
import { Logger } from "../../src/observability/mod.ts";
import { GatehouseServer } from "../../src/server/mod.ts";
import { askConnect } from "../support/router_harness.ts";
import { CONFIG_PATH, loadWithToken } from "../support/admin_router.ts";
import { FakeTransport } from "../plugins/fake_transport.ts";
import { fakeFactory, NO_ALLOCATIONS } from "../discovery/fake_sources.ts";
import podJson from "../fixtures/discovery/pod.json" with { type: "json" };

const TOKEN = "t0ken-Never-Shown-7f3a";
const CONFIG = `
listen: "127.0.0.1:0"
admin: { listen: "127.0.0.1:0", token_file: admin.token }
discovery:
  providers:
    - name: k8s
      type: kubernetes
      kubernetes: { namespaces: [hytale], resources: [ { kind: pods, port: { name: game } } ] }
routing:
  routes:
    - match: { hostnames: ["play.example.com", "*.play.example.com"] }
      pool:
        strategy: weighted
        backends:
          - { host: a.internal, port: 5521, weight: 3, meta: { zone: eu, api_token: hidden-value } }
  default:
    strategy: round_robin
    backends: [ { host: lobby.static, port: 5520 } ]
    discovery: { provider: k8s, mode: union }
plugins:
  - { name: gate, type: grpc, stage: deny, failure_policy: continue, grpc: { address: "127.0.0.1:1" } }
  - { name: tripped, type: grpc, stage: mutate, grpc: { address: "127.0.0.1:2" } }
`;

/** A plugin whose calls are being skipped. */
class TrippedTransport extends FakeTransport {
  readonly circuitOpen = true;
}

const load = loadWithToken;

interface Running {
  readonly base: string;
  readonly logs: string[];
  readonly server: GatehouseServer;
  readonly admin: AdminEndpoint;
  readonly clock: { ms: number };
}

/** `start`'s order: admin open, router start, attach, serving. */
async function withRouter(config: Config, body: (r: Running) => Promise<void>): Promise<void> {
  const logs: string[] = [];
  const logger = new Logger({
    level: "debug",
    format: "json",
    sink: { write: (line) => logs.push(line), now: () => new Date() },
  });
  const clock = { ms: 1_000 };
  const admin = AdminEndpoint.open(config, logger, { now: () => clock.ms, replicaId: "r-1" });
  const fake = fakeFactory();
  const open: SourceOpener = () =>
    Promise.resolve({ open: fake.open, createAllocation: NO_ALLOCATIONS, close: () => {} });
  const server = await GatehouseServer.start(config, {
    logger,
    metrics: admin.metrics,
    discoverySources: open,
    discoveryWaitMs: 50,
    transports: (p) =>
      Promise.resolve(
        p.name === "tripped"
          ? new TrippedTransport(p.name, () => ({}))
          : new FakeTransport(p.name, () => ({})),
      ),
  });
  try {
    admin.discoveryChecks(["k8s"], (name) => server.discoveryReady(name));
    admin.attach(server);
    admin.serving();
    fake.sources[0]?.set([podJson]);
    const base = `http://127.0.0.1:${admin.address!.port}`;
    await body({ base, logs, server, admin, clock });
  } finally {
    await server.close(1_000);
    await admin.close();
  }
}

async function api(
  url: string,
  token: string | null = TOKEN,
  init: RequestInit = {},
): Promise<{ status: number; headers: Headers; body: unknown }> {
  const headers = token === null ? {} : { authorization: `Bearer ${token}` };
  const response = await fetch(url, { ...init, headers });
  const text = await response.text();
  const json = response.headers.get("content-type") === "application/json";
  return {
    status: response.status,
    headers: response.headers,
    body: json ? JSON.parse(text) : text,
  };
}

Deno.test("admin API: status, routes, backends and plugins as JSON", async () => {
  const config = await load(CONFIG, `${TOKEN}\n`);
  await withRouter(config, async ({ base, server, clock }) => {
    clock.ms += 2_500;
    const status = await api(`${base}/api/v1/status`);
    assert.equal(status.status, 200);
    assert.equal(status.headers.get("content-type"), "application/json");
    assert.deepEqual(status.body, {
      version: "0.1.0",
      uptime_seconds: 2.5,
      config: { source: CONFIG_PATH, sha256: config.sha256, generation: 1 },
      ready: true,
      checks: [
        { name: "listening", ok: true, detail: "bound" },
        { name: "plugins_loaded", ok: true, detail: "2" },
        { name: "discovery_k8s", ok: true, detail: "synced" },
      ],
      replica: { id: "r-1" },
      state: { store: "memory", shared: false, where: "not opened yet" },
    });

    const routes = await api(`${base}/api/v1/routes`);
    assert.deepEqual(routes.body, {
      routes: [{
        route: "routes[0]",
        hostnames: ["play.example.com", "*.play.example.com"],
        strategy: "weighted",
        static_backends: 1,
        discovery: null,
      }],
      default: {
        route: "default",
        hostnames: [],
        strategy: "round_robin",
        static_backends: 1,
        discovery: { provider: "k8s", mode: "union" },
      },
    });

    const backends = await api(`${base}/api/v1/backends`);
    const pools = (backends.body as { pools: { route: string; backends: unknown[] }[] }).pools;
    assert.deepEqual(pools.map((p) => p.route), ["routes[0]", "default"]);
    assert.deepEqual(pools[0]?.backends, [{
      host: "a.internal",
      port: 5521,
      weight: 3,
      meta: { zone: "eu", api_token: "<redacted>" },
      source: "static",
      drained: false,
    }]);
    const live = pools[1]?.backends as { host: string; source: string }[];
    assert.deepEqual(live[0], {
      host: "lobby.static",
      port: 5520,
      weight: 0,
      meta: null,
      source: "static",
      drained: false,
    });
    assert.deepEqual(live.slice(1).map((b) => [b.host, b.source]), [[
      podJson.status.podIP,
      "discovered",
    ]]);

    await askConnect(server.addr.port, "play.example.com", "steve");
    const plugins = await api(`${base}/api/v1/plugins`);
    const zero = { timeout: 0, trap: 0, bad_response: 0, unavailable: 0 };
    type Latency = { p50: number; p99: number; calls: number } | null;
    const listed = (plugins.body as { plugins: { latency_ms?: Latency }[] }).plugins;
    for (const plugin of listed) {
      const latency = plugin.latency_ms!;
      assert.equal(latency.calls, 1);
      assert.ok(latency.p50 >= 0 && latency.p99 >= latency.p50, JSON.stringify(latency));
      delete plugin.latency_ms;
    }
    assert.deepEqual(plugins.body, {
      plugins: [
        {
          name: "gate",
          type: "grpc",
          stage: "deny",
          failure_policy: "continue",
          timeout_ms: config.plugins[0]!.timeoutMs,
          breaker_open: null,
          calls: 1,
          errors: zero,
        },
        {
          name: "tripped",
          type: "grpc",
          stage: "mutate",
          failure_policy: config.plugins[1]!.failurePolicy,
          timeout_ms: config.plugins[1]!.timeoutMs,
          breaker_open: true,
          calls: 1,
          errors: zero,
        },
      ],
    });
  });
});

Deno.test("admin API access: 401 without or with a wrong token, 404/405 only once authorised", async () => {
  const config = await load(CONFIG, TOKEN);
  await withRouter(config, async ({ base, logs }) => {
    for (const token of [null, "wrong", `${TOKEN}x`, TOKEN.slice(0, -1), ""]) {
      const r = await api(`${base}/api/v1/routes`, token);
      assert.equal(r.status, 401, `token ${token}`);
      assert.equal(r.headers.get("www-authenticate"), 'Bearer realm="gatehouse"');
      assert.ok(!JSON.stringify(r.body).includes(TOKEN.slice(0, 8)));
    }
    const basic = await fetch(`${base}/api/v1/status`, {
      headers: { authorization: `Basic ${TOKEN}` },
    });
    await basic.body?.cancel();
    assert.equal(basic.status, 401);
    assert.equal((await api(`${base}/api/v1/nothing`, "wrong")).status, 401);
    assert.equal((await api(`${base}/api/v1/nothing`)).status, 404);
    const post = await api(`${base}/api/v1/status`, TOKEN, { method: "POST" });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get("allow"), "GET");
    assert.equal((await api(`${base}/api/v1/status`, TOKEN.toLowerCase())).status, 401);
    const lower = await fetch(`${base}/api/v1/status`, {
      headers: { authorization: `bearer ${TOKEN}` },
    });
    await lower.body?.cancel();
    assert.equal(lower.status, 200, "the scheme is case-insensitive");
    // Open without a token.
    for (const path of ["/metrics", "/healthz", "/readyz"]) {
      const open = await fetch(`${base}${path}`);
      const text = await open.text();
      assert.equal(open.status, 200, path);
      assert.ok(!text.includes(TOKEN), path);
    }
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, new RegExp(`gatehouse_config_info\\{sha256="${config.sha256}"\\} 1`));
    assert.ok(logs.length > 0);
    assert.ok(
      logs.every((l) => !l.includes(TOKEN) && !l.toLowerCase().includes("bearer")),
      logs.join("\n"),
    );
  });
});

Deno.test("admin API with no token file: 403 on /api/v1/*, /metrics still open", async () => {
  const config = parseConfig(CONFIG.replace(", token_file: admin.token", ""), "c.yaml");
  assert.equal(config.admin.token, null);
  await withRouter(config, async ({ base }) => {
    for (const token of [null, TOKEN]) {
      const r = await api(`${base}/api/v1/status`, token);
      assert.equal(r.status, 403);
      assert.match(JSON.stringify(r.body), /admin\.token_file is not set/);
    }
    assert.equal(
      (await fetch(`${base}/metrics`).then(async (r) => [r.status, await r.text()]))[0],
      200,
    );
  });
});

Deno.test("admin API: a reload's new token applies at once, the old one stops working", async () => {
  const config = await load(CONFIG, TOKEN);
  await withRouter(config, async ({ base, server }) => {
    const result = await server.reload(await load(CONFIG, "rotated-token-1234"));
    assert.ok(result.ok);
    assert.equal((await api(`${base}/api/v1/status`)).status, 401);
    const status = await api(`${base}/api/v1/status`, "rotated-token-1234");
    assert.equal(status.status, 200);
    const generation = (status.body as { config: { generation: number } }).config.generation;
    assert.equal(generation, 2, "the reloaded config is generation 2");
  });
});

Deno.test("admin API: router views are 503 until the router is attached; status answers", async () => {
  const config = await load(CONFIG, TOKEN);
  const logger = new Logger({
    level: "error",
    format: "json",
    sink: { write: () => {}, now: () => new Date() },
  });
  const admin = AdminEndpoint.open(config, logger);
  try {
    const base = `http://127.0.0.1:${admin.address!.port}`;
    assert.equal((await api(`${base}/api/v1/routes`)).status, 503);
    const status = await api(`${base}/api/v1/status`);
    assert.equal(status.status, 200);
    assert.equal((status.body as { ready: boolean }).ready, false);
    const { generation } = (status.body as { config: { generation: unknown } }).config;
    assert.equal(generation, null, "no router attached yet");
  } finally {
    await admin.close();
  }
});
