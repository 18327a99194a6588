/**
 * The process transport end to end against the scripted plugin (tests/fixtures/process): the
 * chain's outcomes for each answer, what the plugin receives, bad answers, timeouts, on_disconnect
 * and pushed targets.
 */
import assert from "node:assert/strict";
import { decode } from "@msgpack/msgpack";
import type { PluginConfig } from "../../../src/config/mod.ts";
import {
  type ChainState,
  type ConnectionEnd,
  loadChain,
  PluginError,
} from "../../../src/plugins/mod.ts";
import type { ConnectCall } from "../../../src/plugins/transport.ts";
import { SAMPLE_EVENT } from "../fake_transport.ts";
import { silentLogger } from "../../support/logger.ts";
import { socketGrants } from "../../support/process_driver.ts";
import { type Fake, FAKE_PLUGIN, loadFake } from "./support.ts";

const a = { host: "10.0.0.1", port: 5520, weight: 1, meta: null };
const start: ChainState = {
  strategy: "round_robin",
  candidates: [a],
  selectedIndex: 0,
  backend: a,
  referralContent: new Uint8Array(0),
};

function callAs(username: string): ConnectCall {
  return {
    sni: "play.example.com",
    client: "203.0.113.7:41000",
    route: { hostname: "play.example.com", glob: false },
    event: { ...SAMPLE_EVENT, username },
    state: start,
  };
}

const CONFIG: PluginConfig = {
  name: "guard",
  type: "grpc", // only name, timeout and policy matter to the chain
  stage: "deny",
  before: [],
  after: [],
  timeoutMs: 5_000,
  failurePolicy: "continue",
  grpc: { address: "127.0.0.1:1" },
};

async function withFake(fn: (f: Fake) => Promise<void>, options = {}): Promise<void> {
  const fake = await loadFake(options);
  try {
    await fn(fake);
  } finally {
    await fake.close();
  }
}

async function failure(p: Promise<unknown>): Promise<PluginError> {
  const err = await p.then(() => null, (e) => e);
  assert.ok(err instanceof PluginError, `expected a PluginError, got ${err}`);
  return err;
}

Deno.test("process plugin: allow, deny, steer, candidates and referral through the chain", async () => {
  await withFake(async ({ plugin }) => {
    const chain = await loadChain([CONFIG], () => Promise.resolve(plugin), silentLogger());
    const apply = (username: string) =>
      chain.apply("play.example.com", { ...SAMPLE_EVENT, username }, start, {
        client: "203.0.113.7:41000",
        route: null,
      });
    assert.deepEqual(await apply("anyone"), { kind: "continue", state: start });
    assert.deepEqual(await apply("deny"), {
      kind: "deny",
      plugin: "guard",
      reason: "banned until tomorrow",
    });
    const steered = await apply("steer");
    assert.ok(steered.kind === "continue");
    assert.deepEqual(steered.state.backend, {
      host: "10.0.0.9",
      port: 5521,
      weight: 1,
      meta: { zone: "b" },
    });
    const replaced = await apply("candidates");
    assert.ok(replaced.kind === "continue");
    assert.equal(replaced.state.selectedIndex, 1);
    assert.deepEqual(replaced.state.backend, {
      host: "10.1.0.2",
      port: 5520,
      weight: 3,
      meta: { k: "v" },
    });
    const referral = await apply("referral");
    assert.ok(referral.kind === "continue");
    assert.deepEqual(referral.state.referralContent, new Uint8Array([1, 2, 3, 250]));
    // Reused connections: calls in sequence need no more than one.
    assert.equal(plugin.restarts, 0);
  });
});

Deno.test("process plugin: the plugin receives prox's ConnInfo keys plus Gatehouse's", async () => {
  await withFake(async ({ plugin }) => {
    const echoed = await plugin.connect(callAs("echo"), 5_000);
    const got = decode(echoed.referralContent!) as Record<string, unknown>;
    assert.deepEqual(got, {
      r: "guard",
      d: "play.example.com",
      a: "203.0.113.7:41000",
      md: "play.example.com",
      u: "echo",
      id: SAMPLE_EVENT.uuid,
      l: SAMPLE_EVENT.language,
      c: [{ h: "10.0.0.1", p: 5520, w: 1, m: {} }],
      s: 0,
      b: { h: "10.0.0.1", p: 5520, w: 1, m: {} },
    });
  });
});

Deno.test("process plugin: bad answers are bad_response; the connection stays usable", async () => {
  await withFake(async ({ plugin, log }) => {
    for (
      const [username, message] of [
        ["garbage", /not msgpack/],
        ["no_ok", /lacks the boolean "ok"/],
        ["bad_type", /"s": expected an integer/],
        ["big_frame", /frame of 2097152 bytes is over/],
      ] as const
    ) {
      const err = await failure(plugin.connect(callAs(username), 5_000));
      assert.equal(err.kind, "bad_response", username);
      assert.match(err.message, /^plugin "guard": /);
      assert.match(err.message, message);
    }
    assert.equal((await plugin.connect(callAs("ok"), 5_000)).deny, false);
    assert.equal(plugin.pid !== null, true, "never a crash or a restart");
    assert.equal(plugin.restarts, 0);
    assert.ok(!log.seen.some((l) => /exited/.test(l)));
  });
});

Deno.test("process plugin: a call past its timeout abandons its connection; the next works", async () => {
  await withFake(async ({ plugin, relays }) => {
    // Warm one connection, so the deadline below measures the plugin, not a relay's start.
    await plugin.connect(callAs("ok"), 5_000);
    const opened = relays.opened;
    const started = performance.now();
    const err = await failure(plugin.connect(callAs("hang"), 300));
    const waited = performance.now() - started;
    assert.equal(err.kind, "timeout");
    assert.ok(waited < 1_500, `no player waits past the timeout (${waited} ms)`);
    const next = await plugin.connect(callAs("deny"), 5_000);
    assert.equal(next.denyReason, "banned until tomorrow", "not the hung call's late answer");
    assert.equal(relays.opened, opened + 1, "the abandoned connection was replaced");
  }, { poolSize: 1 });
});

const END: ConnectionEnd = {
  client: "203.0.113.7:41000",
  target: "10.0.0.1:5520",
  outcome: "referral",
  rxBytes: 100,
  txBytes: 200,
  durationMs: 3,
  username: "Krymo",
  uuid: "",
};

Deno.test("process plugin: on_disconnect is delivered, fire and forget", async () => {
  await withFake(async ({ plugin, log }) => {
    for (let i = 0; i < 3; i++) plugin.connectionEnded(END);
    const first = JSON.parse((await log.next(/"msg":"disconnects=1 /)).input);
    assert.equal(first.plugin, "guard");
    assert.deepEqual(JSON.parse(first.msg.slice("disconnects=1 ".length)), [{
      r: "guard",
      tg: "10.0.0.1:5520",
      a: "203.0.113.7:41000",
      rx: 100,
      tx: 200,
      ms: 3,
      o: "referral",
      u: "Krymo",
      id: "",
    }]);
    await log.next(/"msg":"disconnects=3"/);
    assert.equal(plugin.disconnectsDropped, 0);
  }, { reportAt: [1, 3] });
});

Deno.test("process plugin: on_disconnect beyond the queue of 1024 is dropped and counted", async () => {
  await withFake(async ({ plugin, log }) => {
    for (let i = 0; i < 1100; i++) plugin.connectionEnded(END);
    // The first went to the sender at once; 1024 queued behind it; the rest dropped.
    assert.equal(plugin.disconnectsDropped, 1100 - 1 - 1024);
    await log.next(/on_disconnect queue full/);
    await log.next(/"msg":"disconnects=1025"/, 60_000);
    assert.equal(plugin.disconnectsDropped, 75, "every queued one was sent");
  }, { poolSize: 1, reportAt: [1025] });
});

Deno.test("process plugin: on_disconnect frames queued during a write leave in one write", async () => {
  await withFake(async ({ plugin, log, relays }) => {
    // The first goes out at once; the nine queued behind it follow together.
    for (let i = 0; i < 10; i++) plugin.connectionEnded(END);
    await log.next(/"msg":"disconnects=10"/);
    assert.equal(relays.writes, 2);
    assert.equal(plugin.disconnectsDropped, 0);
  }, { poolSize: 1, reportAt: [10] });
});

Deno.test("process plugin: set_targets pushes reach the feed; bad entries dropped, logged", async () => {
  const targets = { route_id: "lobbies", targets: ["10.0.0.5:5520", "no-port", "h:99999"] };
  await withFake(async ({ plugin, log }) => {
    const feed = plugin.targetFeed;
    // The push may come before or after load resolves; the subscription and the getter agree.
    if (feed.targets("lobbies") === null) {
      await new Promise<void>((resolve) => {
        const off = feed.subscribe(() => {
          off();
          resolve();
        });
      });
    }
    assert.deepEqual(feed.targets("lobbies"), [
      { host: "10.0.0.5", port: 5520, weight: 1, meta: null },
    ]);
    const { count, lastAtMs } = feed.pushes("lobbies");
    assert.equal(count, 1);
    assert.ok(lastAtMs !== null && Math.abs(Date.now() - lastAtMs) < 60_000);
    assert.equal(feed.targets("other"), null, "a set never pushed is not synced");
    assert.deepEqual(feed.pushes("other"), { count: 0, lastAtMs: null });
    const warn = JSON.parse((await log.next(/set_targets entries dropped/)).input);
    assert.equal(warn.plugin, "guard");
    assert.equal(warn.dropped, 2);
  }, { targets });
});

Deno.test("process plugin: a command plugin gets only its configured env and PATH", async () => {
  const command = (socket: string) => [
    Deno.execPath(),
    "run",
    "--no-prompt",
    "--no-config",
    ...socketGrants(socket),
    "--allow-env",
    FAKE_PLUGIN,
  ];
  await withFake(async ({ plugin }) => {
    const env = await plugin.connect(callAs("env"), 5_000);
    assert.equal(env.denyReason, "FAKE_MODE,PATH", "nothing leaks from the router's environment");
  }, { command });
});

Deno.test("process plugin: a module plugin may not read, run, reach the network or read env", async () => {
  await withFake(async ({ plugin }) => {
    assert.equal((await plugin.connect(callAs("escape"), 5_000)).denyReason, "");
  });
});
