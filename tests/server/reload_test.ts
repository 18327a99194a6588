/**
 * Live reload at the server level, over real loopback QUIC with in-memory plugin transports:
 * connections in flight keep their config, new ones get the new one; a refused reload changes
 * nothing; plugins are reused, loaded and closed as their settings say.
 */
import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import {
  buildConnectV2,
  frame,
  parseClientReferral,
  parseEnvelope,
  type ReceivedFrame,
  splitFrames,
} from "../support/hytale_client_codec.ts";
import { converse } from "../support/router_harness.ts";
import { silentLogger } from "../support/logger.ts";
import { parseConfig } from "../../src/config/mod.ts";
import { PluginError, type TransportFactory } from "../../src/plugins/mod.ts";
import { GatehouseServer, type ReloadResult } from "../../src/server/mod.ts";
import { FakeTransport } from "../plugins/fake_transport.ts";

/** A config routing everything to `backend`, with the given key id and plugin lines. */
function config(backend: string, keyId: number, plugins: string[], extra = ""): string {
  return `
listen: "127.0.0.1:0"
referral: { key_id: ${keyId} }
routing:
  default: { strategy: round_robin, backends: [{ host: ${backend}, port: 5520 }] }
${extra}
plugins:
${plugins.map((p) => `  - ${p}`).join("\n") || "  []"}
`;
}

const grpc = (name: string, address = "127.0.0.1:1") =>
  `{ name: ${name}, type: grpc, stage: deny, timeout: 20s, grpc: { address: "${address}" } }`;

/** A gate a fake plugin waits at for players named "slow"; `entered` says one arrived. */
function gate() {
  const open = Promise.withResolvers<void>();
  const entered = Promise.withResolvers<void>();
  const behaviour = async (req: Record<string, unknown>) => {
    if ((req.event as { username: string }).username === "slow") {
      entered.resolve();
      await open.promise;
    }
    return {};
  };
  return { open: open.resolve, entered: entered.promise, behaviour };
}

/** Fake transports by plugin name; every one made is kept, in order. */
function fakeFactory(g = gate(), failing: string[] = []) {
  const made: FakeTransport[] = [];
  const factory: TransportFactory = (c) => {
    if (failing.includes(c.name)) {
      return Promise.reject(new PluginError(c.name, "load", "cannot load (test)"));
    }
    const fake = new FakeTransport(c.name, g.behaviour);
    made.push(fake);
    return Promise.resolve(fake);
  };
  return { made, factory, gate: g };
}

async function start(yaml: string, factory: TransportFactory): Promise<GatehouseServer> {
  return await GatehouseServer.start(parseConfig(yaml, "a.yaml"), {
    logger: silentLogger(),
    transports: factory,
  });
}

function reload(server: GatehouseServer, yaml: string, source = "b.yaml"): Promise<ReloadResult> {
  return server.reload(parseConfig(yaml, source));
}

async function ask(server: GatehouseServer, username: string): Promise<ReceivedFrame> {
  const uuid = "00000000-0000-0000-0000-000000000001";
  const seen = await converse(server.addr.port, {
    sni: "play.example.com",
    writes: [frame(0, buildConnectV2({ uuid, username, language: "en" }))],
  });
  const first = splitFrames(seen.received).frames[0];
  if (!first) throw new Error("no reply frame");
  return first;
}

function referral(f: ReceivedFrame): { host: string; keyId: number } {
  const r = parseClientReferral(f.payload);
  return { host: r.host, keyId: parseEnvelope(r.data!).keyId };
}

/** Dials without sending anything; says how the attempt ended. */
async function dial(port: number): Promise<string> {
  try {
    const conn = await Deno.connectQuic({
      hostname: "127.0.0.1",
      port,
      serverName: "play.example.com",
      alpnProtocols: ["hytale/2"],
    });
    conn.close();
    return "connected";
  } catch (err) {
    return String(err);
  }
}

function assertOk(result: ReloadResult): asserts result is Extract<ReloadResult, { ok: true }> {
  assert(result.ok, result.ok ? "" : result.errors.join("\n"));
}

Deno.test("a connection in flight keeps its config across a reload; new ones get the new one", async () => {
  const { factory, made, gate: g } = fakeFactory();
  const server = await start(config("a.internal", 1, [grpc("gate")]), factory);
  try {
    const held = ask(server, "slow");
    await g.entered;
    const result = await reload(server, config("b.internal", 2, [grpc("gate")]));
    assertOk(result);
    assertEquals(result.plugins, { reused: ["gate"], reconfigured: [], loaded: [], closed: [] });
    assertEquals(referral(await ask(server, "fast")), { host: "b.internal", keyId: 2 });
    g.open();
    assertEquals(referral(await held), { host: "a.internal", keyId: 1 });
    assertEquals(made.length, 1); // the unchanged plugin was not loaded again
  } finally {
    await server.close(1_000);
  }
});

Deno.test("a reload whose plugin cannot load keeps the old config and closes what it loaded", async () => {
  const { factory, made } = fakeFactory(gate(), ["broken"]);
  const server = await start(config("a.internal", 1, [grpc("gate")]), factory);
  try {
    const plugins = [grpc("gate"), grpc("fresh"), grpc("broken")];
    const result = await reload(server, config("b.internal", 2, plugins));
    assert(!result.ok);
    assertEquals(result.errors.length, 1);
    assertMatch(result.errors[0]!, /^b\.yaml: plugin "broken": cannot load \(test\)$/);
    assertEquals(referral(await ask(server, "fast")), { host: "a.internal", keyId: 1 });
    const [gateFake, fresh] = made;
    assertEquals([gateFake!.closed, fresh!.name, fresh!.closed], [false, "fresh", true]);
    assertEquals(gateFake!.requests.length, 1); // the running plugin still serves
  } finally {
    await server.close(1_000);
  }
});

Deno.test("a reload adding a plugin this process may not reach is refused, naming it", async () => {
  // The tests run with --allow-net=127.0.0.1: an address elsewhere was never granted, as when
  // `start` granted only what the first config needed.
  const { factory, made } = fakeFactory();
  const server = await start(config("a.internal", 1, []), factory);
  try {
    const result = await reload(server, config("b.internal", 1, [grpc("far", "10.9.9.9:7777")]));
    assert(!result.ok);
    assertEquals(result.errors, [
      'b.yaml: plugin "far" needs net access to 10.9.9.9:7777, which this process was not started with; restart to apply it',
    ]);
    assertEquals(made.length, 0, "nothing was loaded");
    const near = await reload(server, config("b.internal", 1, [grpc("near")]));
    assert(near.ok, "an address the process may reach reloads");
  } finally {
    await server.close(1_000);
  }
});

Deno.test("listen, tls, quic and admin.listen changes refuse the whole reload, naming each", async () => {
  const { factory } = fakeFactory();
  const server = await start(config("a.internal", 1, []), factory);
  try {
    const changed = config(
      "b.internal",
      1,
      [],
      'quic: { max_idle_timeout: 5s }\nadmin: { listen: "127.0.0.1:9000" }',
    )
      .replace('listen: "127.0.0.1:0"', 'listen: "127.0.0.1:5999"\ntls: { alpn: ["hytale/1"] }');
    const result = await reload(server, changed);
    assert(!result.ok);
    assertEquals(result.errors.map((e) => e.split(" changed")[0]), [
      "b.yaml: listen",
      "b.yaml: tls",
      "b.yaml: quic",
      "b.yaml: admin.listen",
    ]);
    assertMatch(result.errors[0]!, /127\.0\.0\.1:0 → 127\.0\.0\.1:5999\); restart to apply it$/);
    assertEquals(referral(await ask(server, "fast")).host, "a.internal");
  } finally {
    await server.close(1_000);
  }
});

Deno.test("unchanged plugins are reused, changed ones reloaded, removed ones closed once idle", async () => {
  const { factory, made, gate: g } = fakeFactory();
  const before = [grpc("keep"), grpc("move", "127.0.0.1:2"), grpc("drop")];
  const server = await start(config("a.internal", 1, before), factory);
  try {
    const held = ask(server, "slow"); // holds the first generation in the plugin "keep"
    await g.entered;
    // `failure_policy` is a chain setting: changing it keeps the transport.
    const keepDeny = grpc("keep").replace("stage: deny", "stage: deny, failure_policy: deny");
    const after = [keepDeny, grpc("move", "127.0.0.1:3"), grpc("add")];
    const result = await reload(server, config("b.internal", 1, after));
    assertOk(result);
    assertEquals(result.plugins, {
      reused: ["keep"],
      reconfigured: [],
      loaded: ["move", "add"],
      closed: ["move", "drop"],
    });
    const [keep, oldMove, drop, newMove, add] = made;
    assertEquals(referral(await ask(server, "fast")).host, "b.internal");
    // A whole connection later, the old generation is still in use: nothing closed yet.
    assertEquals([oldMove!.closed, drop!.closed], [false, false]);
    g.open();
    assertEquals(referral(await held).host, "a.internal");
    await result.retired;
    assertEquals(
      [keep, oldMove, drop, newMove, add].map((f) => [f!.name, f!.closed]),
      [["keep", false], ["move", true], ["drop", true], ["move", false], ["add", false]],
    );
    assertEquals(drop!.requests.length, 1); // the held connection still ran the removed plugin
  } finally {
    await server.close(1_000);
  }
  assert(made.every((f) => f.closed), "close() closes every plugin");
});

Deno.test("a WASM plugin is reused while its module file's bytes are unchanged", async () => {
  const path = await Deno.makeTempFile({ suffix: ".wasm" });
  await Deno.writeFile(path, new Uint8Array([0, 97, 115, 109, 1]));
  const wasm = `{ name: w, type: wasm, stage: mutate, wasm: { path: "${path}" } }`;
  const { factory, made } = fakeFactory();
  const server = await start(config("a.internal", 1, [wasm]), factory);
  try {
    const same = await reload(server, config("a.internal", 1, [wasm]));
    assertOk(same);
    assertEquals(same.plugins.reused, ["w"]);
    await Deno.writeFile(path, new Uint8Array([0, 97, 115, 109, 2]));
    const rebuilt = await reload(server, config("a.internal", 1, [wasm]));
    assertOk(rebuilt);
    assertEquals([rebuilt.plugins.loaded, rebuilt.plugins.closed], [["w"], ["w"]]);
    await rebuilt.retired;
    assertEquals(made.map((f) => f.closed), [true, false]);
  } finally {
    await server.close(1_000);
    await Deno.remove(path);
  }
});

Deno.test("while shutting down, connections in flight finish and new ones are refused at once", async () => {
  const { factory, made, gate: g } = fakeFactory();
  const server = await start(config("a.internal", 1, [grpc("gate")]), factory);
  const held = ask(server, "slow");
  await g.entered;
  const closed = server.close(20_000);
  // The client's own idle timeout (30 s) would be the only way out if the router ignored it.
  const refused = await dial(server.addr.port);
  assertMatch(refused, /refused/);
  assertEquals(made[0]!.closed, false);
  g.open();
  assertEquals(referral(await held).host, "a.internal");
  await closed;
  assertEquals(made[0]!.closed, true);
  const late = await reload(server, config("b.internal", 1, []));
  assert(!late.ok && /shutting down/.test(late.errors[0]!));
});
