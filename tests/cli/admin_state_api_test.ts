/**
 * The admin API's runtime-state endpoints over real HTTP: maintenance (GET, PUT, DELETE) and
 * backend drains, every access path (403 without a token file, 401 without or with a wrong
 * token), bad bodies answered 400 naming the field, `status` showing the replica and the store;
 * and two replicas sharing one ConfigMap on the fake API server: a change made through one
 * replica's API shows on the other's, reaches its players, and survives a restart.
 */
import assert from "node:assert/strict";
import { AdminEndpoint } from "../../src/cli/admin.ts";
import type { Config } from "../../src/config/mod.ts";
import type { Logger } from "../../src/observability/mod.ts";
import { CLOSE_GRACE_MS } from "../../src/observability/admin_server.ts";
import { GatehouseServer } from "../../src/server/mod.ts";
import { type ConsoleControls, type ControlsView, openControls } from "../../src/state/mod.ts";
import { FakeApiServer, plainConnection } from "../discovery/fake_api_server.ts";
import { FAST_BACKOFF } from "../state/stores.ts";
import { within } from "../support/deadline.ts";
import { parseDisconnect } from "../support/hytale_client_codec.ts";
import { silentLogger } from "../support/logger.ts";
import { askConnect } from "../support/router_harness.ts";
import { loadWithToken } from "../support/admin_router.ts";

const TOKEN = "st4te-t0ken-c0ffee";
const ROUTING = `
routing: { default: { strategy: round_robin, backends: [ { host: a.internal, port: 5520 } ] } }
maintenance: { message: "Configured message", bypass: [Admin] }
`;
const WITH_TOKEN = `listen: "127.0.0.1:0"
admin: { listen: "127.0.0.1:0", token_file: admin.token }${ROUTING}`;

async function load(text: string): Promise<Config> {
  return await loadWithToken(text, `${TOKEN}\n`);
}

interface Replica {
  readonly base: string;
  readonly admin: AdminEndpoint;
  readonly controls: ConsoleControls;
}

async function openReplica(
  config: Config,
  id: string,
  kube?: Parameters<typeof openControls>[1]["kube"],
  logger: Logger = silentLogger(),
): Promise<Replica> {
  const admin = AdminEndpoint.open(config, logger, { replicaId: id });
  const controls = await openControls(config, { logger, ...(kube ? { kube } : {}) });
  admin.attachControls(controls);
  return { base: `http://127.0.0.1:${admin.address!.port}/api/v1`, admin, controls };
}

async function closeReplica(r: Replica): Promise<void> {
  await r.controls.close();
  await r.admin.close();
}

async function call(
  url: string,
  method = "GET",
  body?: unknown,
  token: string | null = TOKEN,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = token === null
    ? {}
    : { authorization: `Bearer ${token}` };
  const init: RequestInit = { method, headers };
  if (body !== undefined) init.body = typeof body === "string" ? body : JSON.stringify(body);
  const res = await fetch(url, init);
  return { status: res.status, body: await res.json() };
}

const ENDPOINTS: readonly [string, string, unknown][] = [
  ["GET", "maintenance", undefined],
  ["PUT", "maintenance", { enabled: true }],
  ["DELETE", "maintenance", undefined],
  ["POST", "backends/drain", { backend: "a.internal:5520" }],
  ["POST", "backends/undrain", { backend: "a.internal:5520" }],
];

Deno.test("state API: every endpoint is 401 without or with a wrong token, 403 without a token file", async () => {
  const withToken = await openReplica(await load(WITH_TOKEN), "r1");
  const noToken = await openReplica(
    await load(`listen: "127.0.0.1:0"\nadmin: { listen: "127.0.0.1:0" }${ROUTING}`),
    "r2",
  );
  try {
    for (const [method, name, body] of ENDPOINTS) {
      for (const token of [null, "wrong"]) {
        const res = await call(`${withToken.base}/${name}`, method, body, token);
        assert.equal(res.status, 401, `${method} ${name} with ${token}`);
      }
      const off = await call(`${noToken.base}/${name}`, method, body);
      assert.equal(off.status, 403, `${method} ${name} without a token file`);
    }
    assert.equal(withToken.controls.maintenance.source, "config", "nothing was changed");
    assert.equal(withToken.controls.drained.size, 0);
  } finally {
    await closeReplica(withToken);
    await closeReplica(noToken);
  }
});

Deno.test("state API: GET, PUT and DELETE maintenance; drain and undrain round trip", async () => {
  const r = await openReplica(await load(WITH_TOKEN), "replica-a");
  try {
    const status = await call(`${r.base}/status`);
    assert.deepEqual(status.body.replica, { id: "replica-a" });
    assert.deepEqual(status.body.state, {
      store: "memory",
      shared: false,
      where: "memory (this process only)",
    });

    const initial = await call(`${r.base}/maintenance`);
    assert.deepEqual(initial.body, {
      enabled: false,
      message: "Configured message",
      message_locales: {},
      bypass: ["Admin"],
      source: "config",
    });
    const put = await call(`${r.base}/maintenance`, "PUT", {
      enabled: true,
      message_locales: { DE: "Wartung" },
      bypass: ["Steve", "10.0.0.0/8"],
    });
    assert.equal(put.status, 200);
    assert.deepEqual(put.body, {
      enabled: true,
      message: "Configured message", // left out: kept
      message_locales: { de: "Wartung" },
      bypass: ["Steve", "10.0.0.0/8"],
      source: "api",
    });
    assert.deepEqual((await call(`${r.base}/maintenance`)).body, put.body);
    assert.equal(r.controls.maintenance.message("de-AT"), "Wartung");

    const deleted = await call(`${r.base}/maintenance`, "DELETE");
    assert.deepEqual(deleted.body, initial.body);
    assert.equal(r.controls.maintenance.source, "config");

    const drain = (action: string, backend: string) =>
      call(`${r.base}/backends/${action}`, "POST", { backend });
    assert.deepEqual((await drain("drain", "b.internal:5521")).body, {
      drained: ["b.internal:5521"],
    });
    assert.deepEqual((await drain("drain", "a.internal:5520")).body, {
      drained: ["a.internal:5520", "b.internal:5521"],
    });
    assert.deepEqual((await drain("drain", "a.internal:5520")).body, {
      drained: ["a.internal:5520", "b.internal:5521"],
    });
    assert.deepEqual((await drain("undrain", "b.internal:5521")).body, {
      drained: ["a.internal:5520"],
    });
    assert.deepEqual([...r.controls.drained], ["a.internal:5520"]);
  } finally {
    await closeReplica(r);
  }
});

Deno.test("state API: bad bodies are 400 naming the field; nothing changes", async () => {
  const r = await openReplica(await load(WITH_TOKEN), "r");
  try {
    const cases: [string, string, unknown, number, string | null][] = [
      [
        "PUT",
        "maintenance",
        { enabled: true, bypass: ["Steve", "ok", "10.0.0.1/8"] },
        400,
        "bypass[2]",
      ],
      ["PUT", "maintenance", { enabled: true, bypass: [""] }, 400, "bypass[0]"],
      ["PUT", "maintenance", { enabled: true, bypass: ["x".repeat(65)] }, 400, "bypass[0]"],
      ["PUT", "maintenance", { enabled: "yes" }, 400, "enabled"],
      ["PUT", "maintenance", { message: "no enabled" }, 400, "enabled"],
      ["PUT", "maintenance", { enabled: null }, 400, "enabled"],
      ["PUT", "maintenance", { enabled: true, message: "" }, 400, "message"],
      ["PUT", "maintenance", { enabled: true, message: "m".repeat(1025) }, 400, "message"],
      [
        "PUT",
        "maintenance",
        { enabled: true, message_locales: { de: 1 } },
        400,
        "message_locales.de",
      ],
      ["PUT", "maintenance", { enabled: true, extra: 1 }, 400, "extra"],
      ["PUT", "maintenance", [true], 400, null],
      ["PUT", "maintenance", "{not json", 400, null],
      ["PUT", "maintenance", { enabled: true, message: "x".repeat(70_000) }, 413, null],
      ["POST", "backends/drain", { backend: "no-port" }, 400, "backend"],
      ["POST", "backends/drain", { backend: "a.internal:99999" }, 400, "backend"],
      ["POST", "backends/drain", { backend: 5 }, 400, "backend"],
      ["POST", "backends/drain", { backend: "a:1", also: 1 }, 400, "also"],
      ["POST", "backends/undrain", ["a:1"], 400, null],
      ["POST", "backends/undrain", { backend: " " }, 400, "backend"],
    ];
    for (const [method, name, body, status, field] of cases) {
      const res = await call(`${r.base}/${name}`, method, body);
      const what = `${method} ${name} ${JSON.stringify(body).slice(0, 60)}`;
      assert.equal(res.status, status, `${what}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.field, field ?? undefined, what);
      assert.equal(typeof res.body.error, "string", what);
      if (field !== null) {
        assert.ok(String(res.body.error).startsWith(`${field}: `), String(res.body.error));
      }
    }
    assert.equal(r.controls.maintenance.source, "config");
    assert.equal(r.controls.drained.size, 0);
  } finally {
    await closeReplica(r);
  }
});

const SHARED = `listen: "127.0.0.1:0"
admin:
  listen: "127.0.0.1:0"
  token_file: admin.token
  state_config_map: { name: gatehouse-state, namespace: hytale, kubeconfig: "" }
${ROUTING}`;

/** Resolves with the first view `controls` announces that `check` accepts. */
function announced(controls: ConsoleControls, check: (v: ControlsView) => boolean) {
  const seen = Promise.withResolvers<ControlsView>();
  const stop = controls.subscribe((v) => check(v) && seen.resolve(v));
  return within(seen.promise, 3_000, "the other replica to apply the change").finally(stop);
}

Deno.test("two replicas on one ConfigMap: a change through one API shows on the other, reaches its players, survives a restart", async () => {
  const fake = FakeApiServer.start();
  const kube = { connect: () => Promise.resolve(plainConnection(fake.url)), backoff: FAST_BACKOFF };
  const config = await load(SHARED);
  const one = await openReplica(config, "gatehouse-0", kube);
  let two = await openReplica(config, "gatehouse-1", kube);
  const server = await GatehouseServer.start(config, {
    logger: silentLogger(),
    metrics: two.admin.metrics,
    controls: two.controls,
  });
  try {
    const status = await call(`${two.base}/status`);
    assert.deepEqual(status.body.replica, { id: "gatehouse-1" });
    assert.deepEqual(status.body.state, {
      store: "config_map",
      shared: true,
      where: `configmap hytale/gatehouse-state at ${fake.url}`,
    });

    const applied = announced(two.controls, (v) => v.maintenance.enabled);
    const put = await call(`${one.base}/maintenance`, "PUT", {
      enabled: true,
      message: "Back at 18:00",
      message_locales: { de: "Zurück um 18 Uhr" },
    });
    assert.equal(put.status, 200);
    await applied;
    const seen = await call(`${two.base}/maintenance`);
    assert.deepEqual(seen.body, put.body);

    // A player on replica two gets the maintenance message in their language; Admin bypasses.
    const reply = await askConnect(server.addr.port, "play.example.com", "steve", "de");
    assert.equal(parseDisconnect(reply.payload).reason, "Zurück um 18 Uhr");
    const admin = await askConnect(server.addr.port, "play.example.com", "admin");
    assert.notEqual(admin.id, reply.id, "the bypassed player is referred, not disconnected");

    const drained = announced(two.controls, (v) => v.drained.length === 1);
    await call(`${one.base}/backends/drain`, "POST", { backend: "a.internal:5520" });
    await drained;

    // Restart replica two: the state is read back from the ConfigMap.
    await closeReplica(two);
    two = await openReplica(config, "gatehouse-1", kube);
    assert.deepEqual((await call(`${two.base}/maintenance`)).body, put.body);
    assert.deepEqual([...two.controls.drained], ["a.internal:5520"]);

    // DELETE through replica two: replica one is back on the config's setting.
    const back = announced(one.controls, (v) => v.maintenance.source === "config");
    await call(`${two.base}/maintenance`, "DELETE");
    await back;
    assert.equal((await call(`${one.base}/maintenance`)).body.message, "Configured message");
  } finally {
    await server.close(1_000);
    await closeReplica(one);
    await closeReplica(two);
    await fake.close();
  }
});

Deno.test("state API: GET events sends a state event after each change", async () => {
  const config = await load(WITH_TOKEN);
  const r = await openReplica(config, "r");
  const server = await GatehouseServer.start(config, {
    logger: silentLogger(),
    metrics: r.admin.metrics,
    controls: r.controls,
  });
  r.admin.attach(server);
  const stop = new AbortController();
  try {
    const res = await fetch(`${r.base}/events`, {
      headers: { authorization: `Bearer ${TOKEN}` },
      signal: stop.signal,
    });
    assert.equal(res.status, 200);
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    const stateEvent = (async () => {
      let text = "";
      for (let i = 0; i < 100; i++) {
        const { value, done } = await reader.read();
        if (done) break;
        text += value;
        const m = /event: state\ndata: (.*)\n\n/.exec(text);
        if (m) return JSON.parse(m[1]!);
      }
      throw new Error(`no state event in ${JSON.stringify(text)}`);
    })();
    await call(`${r.base}/backends/drain`, "POST", { backend: "a.internal:5520" });
    const event = await within(stateEvent, 3_000, "the state event");
    assert.deepEqual(event.drained, ["a.internal:5520"]);
    assert.equal(event.maintenance.source, "config");
  } finally {
    stop.abort();
    await server.close(1_000);
    await closeReplica(r);
  }
});

Deno.test("state API: a PUT whose body never arrives holds neither the state nor the shutdown", async () => {
  const r = await openReplica(await load(WITH_TOKEN), "r1");
  const { port } = new URL(r.base);
  const stalled = await Deno.connect({ hostname: "127.0.0.1", port: Number(port) });
  try {
    await stalled.write(new TextEncoder().encode(
      `PUT /api/v1/maintenance HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${TOKEN}\r\n` +
        `content-length: 1000\r\n\r\n{"enabled": `,
    ));
    const other = await call(`${r.base}/maintenance`, "PUT", { enabled: true });
    assert.equal(other.status, 200, JSON.stringify(other.body));
    await r.controls.close();
    const started = performance.now();
    await within(r.admin.close(), CLOSE_GRACE_MS + 3_000, "admin close with a stalled body");
    assert.ok(performance.now() - started < CLOSE_GRACE_MS + 1_000);
  } finally {
    stalled.close();
  }
});
