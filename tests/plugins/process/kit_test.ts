/**
 * The TypeScript kit (plugins/process-kit) from the router's side, through kit_fixture.ts and the
 * independent driver: the readable names it hands a handler for every wire key, the keys it writes
 * for every result field, what a throwing handler or configure becomes, pushes, console.log kept
 * off the protocol, bad frames dropping only their connection, and connections served side by side.
 */
import assert from "node:assert/strict";
import { encode } from "@msgpack/msgpack";
import {
  moduleEnv,
  ON_CONNECT,
  ON_DISCONNECT,
  PluginProcess,
  socketGrants,
} from "../../support/process_driver.ts";
import type { Message } from "../../support/process_driver.ts";

const FIXTURE = new URL("./kit_fixture.ts", import.meta.url).pathname;

const command = (socket: string) => [
  Deno.execPath(),
  "run",
  "--no-prompt",
  "--no-config",
  ...socketGrants(socket),
  FIXTURE,
];

/** The next `log` push whose message matches. */
async function nextLog(plugin: PluginProcess, message: RegExp): Promise<Message> {
  while (true) {
    const log = await plugin.nextPush("log");
    if (message.test(String(log.message))) return log;
  }
}

const FULL_INFO = {
  r: "guard",
  d: "play.example.com",
  a: "203.0.113.7:41000",
  md: "play.example.com",
  mg: "*.example.com",
  u: "Krymo",
  id: "d3e6ef90-e113-49a7-a845-1c11f24fe166",
  l: "de-DE",
  ct: 1,
  ph: "abc",
  it: true,
  c: [{ h: "a.internal", p: 5520, w: 3, m: { zone: "eu" } }, { h: "b.internal", p: 5521, w: 1 }],
  s: 0,
  b: { h: "a.internal", p: 5520, w: 3, m: { zone: "eu" } },
  rc: new Uint8Array([7, 8]),
};

Deno.test("process kit: names, results, errors and pushes as the contract says", async (t) => {
  const plugin = await PluginProcess.start({
    command,
    env: moduleEnv(),
    config: { targets: ["c.internal:3"] },
  });
  const conn = plugin.connect();
  try {
    await t.step("ready: the given socket and the two hooks the fixture implements", () => {
      assert.deepEqual(plugin.ready, {
        socket: plugin.socket,
        hooks: ["on_connect", "on_disconnect"],
      });
    });

    await t.step("set_targets from the first configure is held until after ready", async () => {
      assert.deepEqual(await plugin.nextPush("set_targets"), {
        route_id: "from-configure",
        targets: ["c.internal:3"],
      });
      const order = plugin.stdoutLines.map((line) => JSON.parse(line).method ?? "answer");
      assert.deepEqual(order.slice(0, 3), ["answer", "ready", "set_targets"]);
    });

    await t.step(
      "log and set_targets pushes; args made JSON; console.log kept off stdout",
      async () => {
        assert.deepEqual(await nextLog(plugin, /fixture up/), {
          level: "debug",
          message: "fixture up",
          args: [{ big: "18446744073709551616", error: "as text" }],
        });
        assert.deepEqual(await plugin.nextPush("set_targets"), {
          route_id: "pool-a",
          targets: ["a.internal:1"],
          groups: { blue: ["b.internal:2"] },
        });
        await plugin.stderr.next(/console\.log goes to stderr/);
        assert.deepEqual(plugin.notJson.seen, []);
      },
    );

    await t.step("every on_connect key reaches the handler under its readable name", async () => {
      const answer = await conn.call(ON_CONNECT, FULL_INFO);
      assert.equal(answer.ok, true);
      assert.deepEqual(JSON.parse(new TextDecoder().decode(answer.rc as Uint8Array)), {
        route: "guard",
        sni: "play.example.com",
        clientAddress: "203.0.113.7:41000",
        matchedHostname: "play.example.com",
        matchedGlob: "*.example.com",
        username: "Krymo",
        uuid: "d3e6ef90-e113-49a7-a845-1c11f24fe166",
        language: "de-DE",
        clientType: 1,
        protocolHash: "abc",
        identityTokenPresent: true,
        candidates: [
          { host: "a.internal", port: 5520, weight: 3, meta: { zone: "eu" } },
          { host: "b.internal", port: 5521, weight: 1 },
        ],
        selectedIndex: 0,
        backend: { host: "a.internal", port: 5520, weight: 3, meta: { zone: "eu" } },
        referralContent: [7, 8],
      });
    });

    await t.step("omitted keys: nothing selected, no backend, no token, no names", async () => {
      const answer = await conn.call(ON_CONNECT, {
        r: "guard",
        d: "x.example.com",
        a: "[::1]:1",
        s: -1,
      });
      assert.deepEqual(JSON.parse(new TextDecoder().decode(answer.rc as Uint8Array)), {
        route: "guard",
        sni: "x.example.com",
        clientAddress: "[::1]:1",
        identityTokenPresent: false,
        candidates: [],
        selectedIndex: -1,
      });
    });

    await t.step("every result field goes out under its wire key", async () => {
      assert.deepEqual(await conn.call(ON_CONNECT, { ...FULL_INFO, u: "steer" }), {
        ok: true,
        c: [
          { h: "x.internal", p: 1, w: 1, m: { group: "g" } },
          { h: "y.internal", p: 2, w: 5, m: {} },
        ],
        s: 1,
        b: { h: "y.internal", p: 2, w: 1, m: {} },
        rc: new Uint8Array([0, 1, 255]),
      });
      assert.deepEqual(await conn.call(ON_CONNECT, { ...FULL_INFO, u: "deny" }), {
        ok: false,
        rs: "no entry",
      });
      assert.deepEqual(await conn.call(ON_CONNECT, { ...FULL_INFO, u: "deny-silent" }), {
        ok: false,
        rs: "",
      });
    });

    await t.step("a throwing onConnect: a frame without ok, logged, connection kept", async () => {
      assert.deepEqual(await conn.call(ON_CONNECT, { ...FULL_INFO, u: "throw" }), {});
      const log = await nextLog(plugin, /onConnect failed/);
      assert.equal(log.level, "error");
      assert.match(String(log.message), /handler exploded/);
      assert.deepEqual(await conn.call(ON_CONNECT, { ...FULL_INFO, u: "deny" }), {
        ok: false,
        rs: "no entry",
      });
    });

    await t.step("on_connect data that is not a map is a plugin error too", async () => {
      await conn.sendRaw(encode({ t: ON_CONNECT, d: encode("not a map") }));
      assert.deepEqual(await conn.readResponse(), {});
    });

    await t.step("on_disconnect: readable names, no answer, a throw only logged", async () => {
      await conn.send(ON_DISCONNECT, { ...DISCONNECT, o: "throw" });
      await conn.send(ON_DISCONNECT, DISCONNECT);
      assert.deepEqual((await conn.call(ON_CONNECT, { ...FULL_INFO, u: "deny" })).ok, false);
      assert.match(String((await nextLog(plugin, /onDisconnect failed/)).message), /exploded/);
      assert.deepEqual((await nextLog(plugin, /^disconnect$/)).args, [{
        route: "guard",
        outcome: "referral",
        target: "a.internal:5520",
        clientAddress: "203.0.113.7:41000",
        username: "Krymo",
        uuid: "d3e6ef90-e113-49a7-a845-1c11f24fe166",
        bytesIn: 1200,
        bytesOut: 340,
        durationMs: 57,
      }]);
    });

    await t.step("a configure that throws answers its error; the next one is ok", async () => {
      assert.deepEqual(await plugin.configure({ refuse: "bad ban list" }), {
        error: "bad ban list",
      });
      assert.deepEqual(await plugin.configure({ targets: ["d.internal:4"] }), { result: "ok" });
      assert.deepEqual((await plugin.nextPush("set_targets")).targets, ["d.internal:4"]);
    });

    await t.step("connections are served side by side, each one call at a time", async () => {
      // Each `meet` call waits (up to 5 s) for another: only calls in flight together both pass.
      const other = plugin.connect();
      try {
        const [a, b] = await Promise.all([
          conn.call(ON_CONNECT, { ...FULL_INFO, u: "meet" }),
          other.call(ON_CONNECT, { ...FULL_INFO, u: "meet" }),
        ]);
        assert.deepEqual([a, b], [{ ok: true }, { ok: true }]);
      } finally {
        await other.close();
      }
    });

    await t.step("an answer to a call the router closed is logged, not thrown", async () => {
      const gone = plugin.connect();
      await gone.send(ON_CONNECT, { ...FULL_INFO, u: "late" });
      await gone.close(); // as the router does at a call's timeout
      await nextLog(plugin, /answer not delivered, the router closed the call/);
      assert.equal((await conn.call(ON_CONNECT, { ...FULL_INFO, u: "deny" })).ok, false);
    });

    for (
      const [what, body] of [
        ["a frame that is not an envelope", encode([1, 2, 3])],
        ["hook type 1 (on_request), which Gatehouse never sends", encode({ t: 1, d: encode({}) })],
      ] as const
    ) {
      await t.step(`${what}: only that connection is dropped`, async () => {
        const bad = plugin.connect();
        try {
          await bad.sendRaw(body);
          assert.equal((await bad.closedByPeer()).length, 0);
          await nextLog(plugin, /socket connection dropped/);
        } finally {
          await bad.close();
        }
        assert.equal((await conn.call(ON_CONNECT, { ...FULL_INFO, u: "deny" })).ok, false);
      });
    }

    await t.step("a length prefix over 1 MiB drops the connection unread", async () => {
      const bad = plugin.connect();
      try {
        await bad.sendRawBytes(new Uint8Array([0x00, 0x10, 0x00, 0x01])); // 1 MiB + 1
        assert.equal((await bad.closedByPeer()).length, 0);
        assert.match(
          String((await nextLog(plugin, /socket connection dropped/)).message),
          /1048577/,
        );
      } finally {
        await bad.close();
      }
    });
  } finally {
    await conn.close();
    await plugin.stop();
  }
});

Deno.test("process kit: its msgpack import is the version deno.json pins", async () => {
  // The kit names the package in full (module plugins run with --no-config); the two must agree.
  const pinned = JSON.parse(await Deno.readTextFile(new URL("../../../deno.json", import.meta.url)))
    .imports["@msgpack/msgpack"];
  const wire = await Deno.readTextFile(
    new URL("../../../plugins/process-kit/wire.ts", import.meta.url),
  );
  assert.match(pinned, /^npm:@msgpack\/msgpack@\d/);
  assert.ok(wire.includes(`from "${pinned}";`), `wire.ts should import from "${pinned}"`);
});

Deno.test("process kit: a configure that throws at start answers it, never ready", async () => {
  await assert.rejects(
    PluginProcess.start({ command, env: moduleEnv(), config: { refuse: "no ban list" } }),
    /configure answered \{"error":"no ban list"\}/,
  );
});

const DISCONNECT = {
  r: "guard",
  tg: "a.internal:5520",
  a: "203.0.113.7:41000",
  rx: 1200,
  tx: 340,
  ms: 57,
  o: "referral",
  u: "Krymo",
  id: "d3e6ef90-e113-49a7-a845-1c11f24fe166",
};
