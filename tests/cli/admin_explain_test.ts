/**
 * `POST /api/v1/explain` over real HTTP against a router started in-process: access, bad bodies
 * answered 400 naming the field, an explanation that picks what a real probe then gets (and is
 * neither counted nor recorded), and maintenance shown in the request's language.
 */
import assert from "node:assert/strict";
import { AdminEndpoint, MAX_CONCURRENT_EXPLAINS } from "../../src/cli/admin.ts";
import type { Config } from "../../src/config/mod.ts";
import type { Explanation, GatehouseServer, RuntimeControls } from "../../src/server/mod.ts";
import { loadWithToken, withAdminRouter } from "../support/admin_router.ts";
import { silentLogger } from "../support/logger.ts";
import { MaintenanceGate } from "../../src/state/mod.ts";
import { askConnect } from "../support/router_harness.ts";
import { parseClientReferral, parseDisconnect } from "../support/hytale_client_codec.ts";
import { FakeTransport } from "../plugins/fake_transport.ts";
import { within } from "../support/deadline.ts";

const TOKEN = "explain-token-0001";
const CONFIG = `
listen: "127.0.0.1:0"
admin: { listen: "127.0.0.1:0", token_file: admin.token }
maintenance:
  enabled: true
  message: Down for maintenance
  message_locales: { de: Wartungsarbeiten }
  bypass: [staff, 10.9.0.0/16]
routing:
  routes:
    - match: { hostnames: ["*.play.example.com"] }
      pool:
        strategy: round_robin
        backends:
          - { host: a.internal, port: 5520, meta: { zone: eu, api_token: hidden-value } }
          - { host: b.internal, port: 5520 }
          - { host: c.internal, port: 5520 }
plugins:
  - { name: tagger, type: grpc, stage: mutate, grpc: { address: "127.0.0.1:1" } }
`;

async function load(text: string, token: string | null = TOKEN): Promise<Config> {
  if (token === null) return await loadWithToken(text.replace(", token_file: admin.token", ""), "");
  return await loadWithToken(text, token);
}

/** Maintenance as the config sets it, switchable by the test; no drains. */
function switchable(config: Config): RuntimeControls & { enabled: boolean } {
  const on = new MaintenanceGate(config.maintenance, "config");
  const off = new MaintenanceGate({ ...config.maintenance, enabled: false }, "config");
  return {
    enabled: false,
    get maintenance() {
      return this.enabled ? on : off;
    },
    drained: new Set<string>(),
  };
}

interface Running {
  readonly base: string;
  readonly server: GatehouseServer;
  readonly admin: AdminEndpoint;
  readonly controls: RuntimeControls & { enabled: boolean };
  readonly plugin: FakeTransport;
}

/** A router whose `tagger` plugin denies `banned` and attaches referral content otherwise. */
async function withRouter(config: Config, body: (r: Running) => Promise<void>): Promise<void> {
  const controls = switchable(config);
  const plugin = new FakeTransport("tagger", (request) => {
    const username = (request as { event?: { username?: string } }).event?.username;
    if (username === "banned") return { deny: true, deny_reason: "go away" };
    return { referral_content: btoa("hello") };
  });
  const transports = () => Promise.resolve(plugin);
  await withAdminRouter(config, { controls, transports }, (r) => body({ ...r, controls, plugin }));
}

async function explain(
  base: string,
  body: unknown,
  token: string | null = TOKEN,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const text = typeof body === "string" ? body : JSON.stringify(body);
  const response = await fetch(`${base}/api/v1/explain`, { method: "POST", headers, body: text });
  return { status: response.status, body: await response.json() };
}

const STEVE = { sni: "eu.play.example.com", username: "steve" };

Deno.test("explain API: bearer token required (401), 403 without a token file, POST only", async () => {
  await withRouter(await load(CONFIG), async ({ base }) => {
    assert.equal((await explain(base, STEVE, null)).status, 401);
    assert.equal((await explain(base, STEVE, "wrong")).status, 401);
    const get = await fetch(`${base}/api/v1/explain`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    assert.equal(get.status, 405);
    assert.equal(get.headers.get("allow"), "POST");
    await get.body?.cancel();
  });
  await withRouter(await load(CONFIG, null), async ({ base }) => {
    assert.equal((await explain(base, STEVE)).status, 403);
  });
});

Deno.test("explain API: bad bodies are 400 naming the field; too large is 413", async () => {
  await withRouter(await load(CONFIG), async ({ base }) => {
    const cases: readonly [unknown, string | null][] = [
      ["not json", null],
      [[1, 2], "body"],
      ["null", "body"],
      [{ username: "steve" }, "sni"],
      [{ sni: "x" }, "username"],
      [{ sni: 5, username: "steve" }, "sni"],
      [{ sni: "x".repeat(256), username: "steve" }, "sni"],
      [{ ...STEVE, username: "seventeen-letters" }, "username"],
      [{ ...STEVE, username: "ééééééééé" }, "username"],
      [{ ...STEVE, uuid: "not-a-uuid" }, "uuid"],
      [{ ...STEVE, uuid: 7 }, "uuid"],
      [{ ...STEVE, language: "x".repeat(17) }, "language"],
      [{ ...STEVE, client_type: 1.5 }, "client_type"],
      [{ ...STEVE, client_type: 256 }, "client_type"],
      [{ ...STEVE, client_type: "1" }, "client_type"],
      [{ ...STEVE, client_ip: "10.0.0" }, "client_ip"],
      [{ ...STEVE, client_ip: "10.0.0.1,10.0.0.2" }, "client_ip"],
      [{ ...STEVE, usernmae: "typo" }, "usernmae"],
    ];
    for (const [body, field] of cases) {
      const answer = await explain(base, body);
      assert.equal(answer.status, 400, JSON.stringify(body));
      assert.equal(answer.body.field ?? null, field, JSON.stringify(answer.body));
      if (field !== null) assert.match(String(answer.body.error), new RegExp(`^${field}`));
    }
    const huge = await explain(base, { ...STEVE, pad: "x".repeat(70_000) });
    assert.equal(huge.status, 413);
  });
});

Deno.test("explain API: 503 until the router is attached", async () => {
  const config = await load(CONFIG);
  const admin = AdminEndpoint.open(config, silentLogger());
  try {
    const answer = await explain(`http://127.0.0.1:${admin.address!.port}`, STEVE);
    assert.equal(answer.status, 503);
  } finally {
    await admin.close();
  }
});

Deno.test("explain API: shows the pick a real probe then gets; not counted, not recorded", async () => {
  await withRouter(await load(CONFIG), async ({ base, server, admin, plugin }) => {
    const port = server.addr.port;
    for (const expected of ["a.internal", "b.internal"]) {
      // Round robin: explaining (twice) does not take the next player's turn.
      for (let i = 0; i < 2; i++) {
        const { status, body } = await explain(base, STEVE);
        assert.equal(status, 200);
        assert.deepEqual(body.reply, { kind: "referral", backend: `${expected}:5520` });
      }
      const probe = await askConnect(port, "eu.play.example.com", "steve");
      assert.equal(parseClientReferral(probe.payload).host, expected);
    }
    const { body } = await explain(base, {
      ...STEVE,
      uuid: "0F0E0D0C-0B0A-0908-0706-050403020100",
    });
    const e = body as unknown as Explanation;
    assert.deepEqual(e.request, {
      sni: "eu.play.example.com",
      username: "steve",
      uuid: "0f0e0d0c-0b0a-0908-0706-050403020100",
      language: "",
      client_type: 0,
      client_ip: null,
    });
    assert.deepEqual(e.maintenance, { enabled: false, bypassed: false });
    assert.deepEqual(e.route, {
      label: "routes[0]",
      matched: { hostname: "*.play.example.com", glob: true },
    });
    assert.deepEqual(e.candidates.resolved[0], {
      host: "a.internal",
      port: 5520,
      weight: 0,
      meta: { zone: "eu", api_token: "<redacted>" },
      drained: false,
    });
    const all = ["a.internal:5520", "b.internal:5520", "c.internal:5520"];
    assert.deepEqual(e.candidates.attempts, [{
      strategy: "round_robin",
      after_filters: all,
      after_sort: all,
      after_limit: all,
      picked: "c.internal:5520",
      note: null,
    }]);
    assert.equal(e.plugins.length, 1);
    const [tagger] = e.plugins;
    assert.equal(tagger!.plugin, "tagger");
    assert.equal(tagger!.verdict, "continue");
    assert.deepEqual(tagger!.answer?.referral_content, {
      length: 5,
      base64: btoa("hello"),
      truncated: false,
    });
    // The plugin was called with the request's facts…
    const last = plugin.requests.at(-1) as { event: { uuid: string } };
    assert.equal(last.event.uuid, "0f0e0d0c-0b0a-0908-0706-050403020100");
    // …but only the two probes were counted and recorded.
    assert.equal(admin.metrics.pluginCounts("tagger")?.calls, 2);
    const decisions = await fetch(`${base}/api/v1/decisions`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    assert.equal((await decisions.json()).decisions.length, 2);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    const referrals = metrics.split("\n").find((l) =>
      l.startsWith("gatehouse_connection_outcomes_total") && l.includes('outcome="referral"')
    );
    assert.match(referrals ?? "", / 2$/);

    const denied = (await explain(base, { ...STEVE, username: "banned" }))
      .body as unknown as Explanation;
    assert.equal(denied.plugins[0]!.verdict, "deny");
    assert.equal(denied.plugins[0]!.answer?.deny_reason, "go away");
    assert.deepEqual(denied.reply, {
      kind: "disconnect",
      outcome: "deny",
      message: "go away",
      detail: 'denied by plugin "tagger"',
    });
    const lost = (await explain(base, { ...STEVE, sni: "other.example" }))
      .body as unknown as Explanation;
    assert.equal(lost.route, null);
    assert.deepEqual(lost.candidates, { resolved: [], allocation: null, attempts: [] });
    assert.equal((lost.reply as { outcome: string }).outcome, "no_route");
  });
});

Deno.test("explain API: maintenance shows the message in the request's language", async () => {
  await withRouter(await load(CONFIG), async ({ base, server, controls }) => {
    controls.enabled = true;
    const de = (await explain(base, { ...STEVE, language: "de-DE" }))
      .body as unknown as Explanation;
    assert.deepEqual(de.maintenance, { enabled: true, bypassed: false });
    assert.equal(de.route, null);
    assert.deepEqual(de.plugins, []);
    assert.deepEqual(de.reply, {
      kind: "disconnect",
      outcome: "maintenance",
      message: "Wartungsarbeiten",
      detail: "maintenance mode",
    });
    const probe = await askConnect(server.addr.port, "eu.play.example.com", "steve", "de-DE");
    assert.equal(parseDisconnect(probe.payload).reason, "Wartungsarbeiten");
    const en = (await explain(base, STEVE)).body as unknown as Explanation;
    assert.equal((en.reply as { message: string }).message, "Down for maintenance");

    const staff = (await explain(base, { ...STEVE, username: "Staff" }))
      .body as unknown as Explanation;
    assert.deepEqual(staff.maintenance, { enabled: true, bypassed: true });
    assert.equal(staff.reply.kind, "referral");
    const byIp = (await explain(base, { ...STEVE, client_ip: "10.9.3.4" }))
      .body as unknown as Explanation;
    assert.equal(byIp.maintenance.bypassed, true);
    assert.equal(byIp.request.client_ip, "10.9.3.4");
  });
});

Deno.test("explain API: at most MAX_CONCURRENT_EXPLAINS at once; one more is a 503", async () => {
  const config = await load(CONFIG);
  let release = () => {};
  const held = new Promise<void>((resolve) => release = resolve);
  // Every explain's plugin call waits until the test releases it.
  const plugin = new FakeTransport("tagger", async () => (await held, {}));
  const transports = () => Promise.resolve(plugin);
  await withAdminRouter(config, { controls: switchable(config), transports }, async ({ base }) => {
    const running = Array.from({ length: MAX_CONCURRENT_EXPLAINS }, () => explain(base, STEVE));
    await within(
      (async () => {
        while (plugin.requests.length < MAX_CONCURRENT_EXPLAINS) {
          await new Promise((r) => setTimeout(r, 5));
        }
      })(),
      5_000,
      "the explains to reach the plugin",
    );
    const refused = await explain(base, STEVE);
    assert.equal(refused.status, 503);
    assert.match(String(refused.body.error), /explains are running/);
    release();
    for (const answer of await Promise.all(running)) assert.equal(answer.status, 200);
    // The slots are free again.
    assert.equal((await explain(base, STEVE)).status, 200);
  });
});

Deno.test("explain API: bodies still arriving take no explain slot", async () => {
  await withRouter(await load(CONFIG), async ({ base }) => {
    const { port } = new URL(base);
    const head = (length: number) =>
      `POST /api/v1/explain HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${TOKEN}\r\n` +
      `content-type: application/json\r\ncontent-length: ${length}\r\n\r\n{"sni": `;
    // Clients that send a body's first bytes and then nothing (slowly, or never) ...
    const stalled = await Promise.all(
      Array.from({ length: MAX_CONCURRENT_EXPLAINS }, async () => {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(port) });
        await conn.write(new TextEncoder().encode(head(1000)));
        return conn;
      }),
    );
    try {
      await new Promise((r) => setTimeout(r, 100));
      // ... leave every slot free for a request whose body has arrived.
      const answer = await explain(base, STEVE);
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
    } finally {
      for (const conn of stalled) conn.close();
    }
  });
});
