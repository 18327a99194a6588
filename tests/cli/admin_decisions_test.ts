/**
 * `/api/v1/decisions` and `/api/v1/events` over real HTTP against a router started in-process:
 * probes appear newest first with their plugins' verdicts, the live stream carries each new
 * decision, and a maintenance gate (the server's `controls`) turns players away by name, uuid or
 * address.
 */
import assert from "node:assert/strict";
import { MAX_EVENT_STREAMS } from "../../src/cli/admin.ts";
import type { Config, PluginConfig } from "../../src/config/mod.ts";
import type { GatehouseServer, RuntimeControls } from "../../src/server/mod.ts";
import { loadWithToken, withAdminRouter } from "../support/admin_router.ts";
import { askConnect } from "../support/router_harness.ts";
import { parseClientReferral, parseDisconnect } from "../support/hytale_client_codec.ts";
import { FakeTransport } from "../plugins/fake_transport.ts";
import { within } from "../support/deadline.ts";

const TOKEN = "decisions-token-1";
const CONFIG = `
listen: "127.0.0.1:0"
admin: { listen: "127.0.0.1:0", token_file: admin.token }
routing:
  routes:
    - match: { hostnames: ["play.example.com"] }
      pool: { strategy: round_robin, backends: [ { host: lobby.internal, port: 5520 } ] }
plugins:
  - { name: gate, type: grpc, stage: deny, grpc: { address: "127.0.0.1:1" } }
`;

async function load(text: string): Promise<Config> {
  return await loadWithToken(text, TOKEN);
}

/** A router whose `gate` plugin denies the username `banned`, with its admin endpoint. */
async function withRouter(
  body: (base: string, server: GatehouseServer) => Promise<void>,
  controls?: RuntimeControls,
): Promise<void> {
  const transports = (p: PluginConfig) =>
    Promise.resolve(
      new FakeTransport(p.name, (request) => {
        const username = (request as { event?: { username?: string } }).event?.username;
        return username === "banned" ? { deny: true, deny_reason: "go away" } : {};
      }),
    );
  await withAdminRouter(
    await load(CONFIG),
    { transports, ...(controls && { controls }) },
    ({ base, server }) => body(base, server),
  );
}

async function get(url: string, token: string | null = TOKEN): Promise<Response> {
  return await fetch(url, { headers: token === null ? {} : { authorization: `Bearer ${token}` } });
}

Deno.test("decisions: newest first with each plugin's verdict; limit is checked", async () => {
  await withRouter(async (base, server) => {
    await askConnect(server.addr.port, "play.example.com", "steve");
    await askConnect(server.addr.port, "play.example.com", "banned");
    const response = await get(`${base}/api/v1/decisions?limit=10`);
    assert.equal(response.status, 200);
    const { decisions } = await response.json();
    assert.equal(decisions.length, 2);
    const [denied, referred] = decisions;
    assert.equal(denied.username, "banned");
    assert.equal(denied.outcome, "deny");
    assert.equal(denied.backend, null);
    assert.equal(denied.plugins[0].plugin, "gate");
    assert.equal(denied.plugins[0].verdict, "deny");
    assert.equal(referred.username, "steve");
    assert.equal(referred.outcome, "referral");
    assert.equal(referred.route, "routes[0]");
    assert.equal(referred.backend, "lobby.internal:5520");
    assert.equal(referred.sni, "play.example.com");
    assert.equal(referred.plugins[0].verdict, "continue");
    assert.equal(typeof referred.duration_ms, "number");
    assert.ok(!Number.isNaN(Date.parse(referred.time)));
    assert.equal("client" in referred, false, "no client address unless log_client_ip");

    const one = await (await get(`${base}/api/v1/decisions?limit=1`)).json();
    assert.deepEqual(one.decisions.map((d: { username: string }) => d.username), ["banned"]);
    for (const bad of ["0", "1001", "-1", "abc", "1e3", ""]) {
      const refused = await get(`${base}/api/v1/decisions?limit=${bad}`);
      assert.equal(refused.status, 400, bad);
      assert.equal((await refused.json()).field, "limit");
    }
    assert.equal((await get(`${base}/api/v1/decisions`, null)).status, 401);
    assert.equal((await get(`${base}/api/v1/decisions`, "wrong")).status, 401);
  });
});

Deno.test("events: a probe made after the stream opened arrives as a decision event", async () => {
  await withRouter(async (base, server) => {
    assert.equal((await get(`${base}/api/v1/events`, null)).status, 401);
    const abort = new AbortController();
    const response = await fetch(`${base}/api/v1/events`, {
      headers: { authorization: `Bearer ${TOKEN}` },
      signal: abort.signal,
    });
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type")!, /^text\/event-stream/);
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    // The stream says it is live before any event: only then is the probe sure to be heard.
    while (!text.includes(": connected")) text += (await reader.read()).value ?? "";
    await askConnect(server.addr.port, "play.example.com", "alex");
    await within(
      (async () => {
        while (!/event: decision\ndata: .*\n\n/.test(text)) {
          text += (await reader.read()).value ?? "";
        }
      })(),
      5_000,
      "the decision event",
    );
    const block = text.slice(text.indexOf("event: decision")).split("\n\n")[0]!;
    const data = JSON.parse(block.split("\n").find((l) => l.startsWith("data: "))!.slice(6));
    assert.equal(data.username, "alex");
    assert.equal(data.backend, "lobby.internal:5520");
    abort.abort();
    await reader.cancel().catch(() => {});
    // The server hears the client leave asynchronously and exposes no event for it: poll.
    await within(
      (async () => {
        while (server.decisions.listeners > 0) await new Promise((r) => setTimeout(r, 10));
      })(),
      5_000,
      "the stream to unsubscribe",
    );
  });
});

/** Opens `/api/v1/events` and reads until the stream says it is live. */
async function openStream(base: string): Promise<{ response: Response; close(): Promise<void> }> {
  const abort = new AbortController();
  const response = await fetch(`${base}/api/v1/events`, {
    headers: { authorization: `Bearer ${TOKEN}` },
    signal: abort.signal,
  });
  if (response.status !== 200) return { response, close: () => response.body!.cancel() };
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes(": connected")) text += (await reader.read()).value ?? "";
  return {
    response,
    close: async () => {
      abort.abort();
      await reader.cancel().catch(() => {});
    },
  };
}

Deno.test("events: at most MAX_EVENT_STREAMS streams at once; one more is a 503", async () => {
  await withRouter(async (base, server) => {
    const open = [];
    for (let i = 0; i < MAX_EVENT_STREAMS; i++) open.push(await openStream(base));
    assert.ok(open.every((s) => s.response.status === 200));
    const refused = await openStream(base);
    assert.equal(refused.response.status, 503);
    assert.match(refused.response.statusText + (await refused.response.text()), /event streams/);
    // Closing one makes room once the server has heard the client leave.
    await open.pop()!.close();
    await within(
      (async () => {
        while (server.decisions.listeners >= MAX_EVENT_STREAMS) {
          await new Promise((r) => setTimeout(r, 10));
        }
      })(),
      5_000,
      "the closed stream to unsubscribe",
    );
    const again = await openStream(base);
    assert.equal(again.response.status, 200);
    open.push(again);
    for (const s of open) await s.close();
  });
});

/** A fixed gate: on, bypassing the username `staff` and 127.0.0.0/8 when `byIp`. */
function maintenance(byIp: boolean, drained: Set<string> = new Set()): RuntimeControls {
  return {
    maintenance: {
      enabled: true,
      bypassed: ({ username, ip }) => username === "staff" || (byIp && ip === "127.0.0.1"),
      message: (language) => language === "de" ? "Wartung" : "Down for maintenance",
    },
    drained,
  };
}

Deno.test("maintenance gate: the message in the player's language; bypassed players route", async () => {
  await withRouter(async (base, server) => {
    const port = server.addr.port;
    const en = await askConnect(port, "play.example.com", "steve");
    assert.equal(parseDisconnect(en.payload).reason, "Down for maintenance");
    const de = await askConnect(port, "play.example.com", "steve", "de");
    assert.equal(parseDisconnect(de.payload).reason, "Wartung");
    const staff = await askConnect(port, "play.example.com", "staff");
    assert.equal(parseClientReferral(staff.payload).host, "lobby.internal");
    const { decisions } = await (await get(`${base}/api/v1/decisions`)).json();
    assert.deepEqual(
      decisions.map((d: { outcome: string; plugins: unknown[] }) => [d.outcome, d.plugins.length]),
      [["referral", 1], ["maintenance", 0], ["maintenance", 0]],
      "players turned away never reach the plugins",
    );
  }, maintenance(false));
});

Deno.test("maintenance gate: a bypass by address; drained backends leave decisions", async () => {
  const drained = new Set(["lobby.internal:5520"]);
  await withRouter(async (base, server) => {
    const reply = await askConnect(server.addr.port, "play.example.com", "steve");
    assert.match(parseDisconnect(reply.payload).reason, /full or restarting/);
    const { pools } = await (await get(`${base}/api/v1/backends`)).json();
    assert.equal(pools[0].backends[0].drained, true);
    drained.clear();
    const again = await askConnect(server.addr.port, "play.example.com", "steve");
    assert.equal(parseClientReferral(again.payload).host, "lobby.internal");
  }, maintenance(true, drained));
});

Deno.test("backends: a process plugin's pushed targets show as source pushed", async () => {
  const text = `
listen: "127.0.0.1:0"
admin: { listen: "127.0.0.1:0", token_file: admin.token }
discovery:
  providers:
    - { name: lobbies, type: plugin, plugin: { name: feeder, route_id: lobbies } }
routing:
  default:
    strategy: round_robin
    backends: [ { host: static.internal, port: 5520 } ]
    discovery: { provider: lobbies, mode: union }
plugins:
  - { name: feeder, type: process, stage: deny, process: { command: [/bin/true] } }
`;
  const pushed = [{ host: "10.0.0.7", port: 5520, weight: 1, meta: null }];
  const feed = {
    targets: (setId: string) => setId === "lobbies" ? pushed : null,
    pushes: () => ({ count: 1, lastAtMs: Date.now() }),
    subscribe: () => () => {},
  };
  class Feeder extends FakeTransport {
    readonly targetFeed = feed;
  }
  const transports = (p: PluginConfig) => Promise.resolve(new Feeder(p.name, () => ({})));
  await withAdminRouter(await load(text), { transports }, async ({ base }) => {
    const { pools } = await (await get(`${base}/api/v1/backends`)).json();
    assert.deepEqual(
      pools[0].backends.map((b: { host: string; source: string }) => [b.host, b.source]),
      [["static.internal", "static"], ["10.0.0.7", "pushed"]],
    );
  });
});
