/**
 * The two example process plugins — plugins/process-example (TypeScript, on the kit) and
 * plugins/process-go-example (Go, no kit) — through the same cases, driven from the router's side
 * by tests/support/process_driver.ts, which shares no code with either: ready on the exact socket,
 * allow, deny a banned username or uuid with the configured reason, set_targets with the
 * configured lobbies, on_disconnect without an answer, reconfigure with a new ban list, a refused
 * reconfigure keeping the old one, and exit when stdin closes.
 */
import assert from "node:assert/strict";
import {
  moduleEnv,
  ON_CONNECT,
  ON_DISCONNECT,
  PluginProcess,
} from "../../support/process_driver.ts";
import type { Message } from "../../support/process_driver.ts";
import { testRequiring } from "../../support/requires.ts";

const ROOT = new URL("../../../", import.meta.url).pathname;
const TS_EXAMPLE = `${ROOT}plugins/process-example/main.ts`;
const GO_SOURCE = `${ROOT}plugins/process-go-example/main.go`;
/** Where plugins/process-go-example/build.sh (run by .ci/setup_process.sh) writes the binary. */
const GO_EXAMPLE = Deno.env.get("PROCESS_GO_EXAMPLE") ??
  `${ROOT}plugins/process-go-example/bin/guard`;

const BANNED_UUID = "0f6a4b52-3c1d-4e8f-9a2b-7c5d6e4f3a21";
const REASON = "You are banned (test).";

/**
 * How each example is started: the TS one as the router runs a `module` (its Deno, no config
 * file, no permission but its socket and the ban list), the Go one as a plain `command`.
 */
interface Example {
  readonly command: (bans: string) => (socket: string) => string[];
  readonly env: Record<string, string>;
}

const tsExample: Example = {
  env: moduleEnv(),
  command: (bans) => (socket) => [
    Deno.execPath(),
    "run",
    "--no-prompt",
    "--no-config",
    `--allow-read=${socket},${bans}`,
    `--allow-write=${socket}`,
    `--allow-net=unix:${socket}`,
    TS_EXAMPLE,
  ],
};

const goExample: Example = { env: {}, command: () => () => [GO_EXAMPLE] };

Deno.test("process-example (TypeScript): bans, lobbies, reconfigure, stop", async (t) => {
  await exampleCases(t, tsExample);
});

testRequiring(
  { available: newerThan(GO_EXAMPLE, GO_SOURCE), install: goInstall() },
  "process-go-example (Go): bans, lobbies, reconfigure, stop",
  async (t) => await exampleCases(t, goExample),
);

async function exampleCases(t: Deno.TestContext, example: Example): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "gh-bans-" });
  const bans = `${dir}/bans.txt`;
  await Deno.writeTextFile(bans, `# griefers\n  Griefer  \n${BANNED_UUID.toUpperCase()} # alt\n\n`);
  const config = (lobbies: string[]) => ({
    ban_list: bans,
    ban_reason: REASON,
    route_id: "lobbies",
    lobbies,
  });
  const plugin = await PluginProcess.start({
    command: example.command(bans),
    env: example.env,
    config: config(["10.0.0.1:5520", "10.0.0.2:5520"]),
  });
  const conn = plugin.connect();
  try {
    await t.step("ready names the exact socket and both hooks", () => {
      assert.equal(plugin.ready.socket, plugin.socket);
      assert.deepEqual([...plugin.ready.hooks as string[]].sort(), ["on_connect", "on_disconnect"]);
    });

    await t.step("set_targets pushes the configured lobbies once ready", async () => {
      assert.deepEqual(await plugin.nextPush("set_targets"), {
        route_id: "lobbies",
        targets: ["10.0.0.1:5520", "10.0.0.2:5520"],
      });
    });

    await t.step("a player on neither list is allowed, with nothing changed", async () => {
      assert.deepEqual(await conn.call(ON_CONNECT, connInfo("Alice", "")), { ok: true });
    });

    await t.step("a banned username (any case) is denied with the reason", async () => {
      assert.deepEqual(await conn.call(ON_CONNECT, connInfo("gRiEfEr", "")), {
        ok: false,
        rs: REASON,
      });
    });

    await t.step("a banned uuid is denied whatever the username", async () => {
      const answer = await conn.call(ON_CONNECT, connInfo("NewName", BANNED_UUID));
      assert.equal(answer.ok, false);
      assert.equal(answer.rs, REASON);
    });

    await t.step("on_disconnect gets no answer, and is logged", async () => {
      await conn.send(ON_DISCONNECT, {
        r: "guard",
        tg: "10.0.0.1:5520",
        a: "127.0.0.1:40000",
        rx: 1200,
        tx: 300,
        ms: 42,
        o: "referral",
        u: "Alice",
        id: "",
      });
      // Had the plugin answered on_disconnect, that frame would be read here instead of the deny.
      assert.deepEqual(await conn.call(ON_CONNECT, connInfo("Griefer", "")), {
        ok: false,
        rs: REASON,
      });
      const log = await plugin.nextPush("log");
      while (!String(log.message).includes("Alice")) {
        Object.assign(log, await plugin.nextPush("log"));
      }
      assert.equal(log.message, "Alice referral");
      assert.equal(log.level, "info");
    });

    await t.step("reconfigure re-reads the ban list and pushes the new lobbies", async () => {
      await Deno.writeTextFile(bans, "alice\n");
      assert.deepEqual(await plugin.configure(config(["10.0.0.3:5520"])), { result: "ok" });
      assert.deepEqual(await plugin.nextPush("set_targets"), {
        route_id: "lobbies",
        targets: ["10.0.0.3:5520"],
      });
      assert.equal((await conn.call(ON_CONNECT, connInfo("Alice", ""))).ok, false);
      assert.deepEqual(await conn.call(ON_CONNECT, connInfo("Griefer", "")), { ok: true });
    });

    await t.step("a reconfigure that fails is refused and the old list stays", async () => {
      const answer = await plugin.configure({ ...config([]), ban_list: `${dir}/missing.txt` });
      assert.equal(typeof answer.error, "string", JSON.stringify(answer));
      assert.equal((await conn.call(ON_CONNECT, connInfo("Alice", ""))).ok, false);
    });

    await t.step("closing stdin ends the plugin", async () => {
      await conn.close();
      const status = await plugin.stop();
      assert.equal(status.code, 0, plugin.stderr.seen.join("\n"));
      assert.equal(status.signal, null);
    });
  } finally {
    await conn.close();
    await plugin.stop().catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
}

/** on_connect data as the router sends it, with every key a plugin may meet. */
function connInfo(username: string, uuid: string): Message {
  const backend = { h: "10.0.0.1", p: 5520, w: 1, m: { zone: "eu" } };
  return {
    r: "guard",
    d: "play.example.com",
    a: "127.0.0.1:40000",
    md: "play.example.com",
    u: username,
    ...(uuid ? { id: uuid } : {}),
    l: "en-US",
    ct: 1,
    ph: "abc123",
    it: true,
    c: [backend, { h: "10.0.0.2", p: 5520, w: 1, m: {} }],
    s: 0,
    b: backend,
  };
}

function goInstall(): string {
  return "bash .ci/setup_process.sh (installs golang-go and " +
    "golang-github-vmihailenco-msgpack.v5-dev from Debian, then builds " +
    "plugins/process-go-example/bin/guard, which is missing or older than main.go)";
}

/** Whether `path` exists and is newer than `source` (a stale build would test old code). */
function newerThan(path: string, source: string): boolean {
  try {
    return Deno.statSync(path).mtime! >= Deno.statSync(source).mtime!;
  } catch {
    return false;
  }
}
