/**
 * Supervision against the scripted plugin (tests/fixtures/process): starts that must fail with
 * the plugin's name and why, protocol errors, restarts with backoff, fail-fast while down,
 * reconfigure and the stop sequence.
 */
import assert from "node:assert/strict";
import { dirname } from "node:path";
import { loadProcessPlugin } from "../../../src/plugins/process/mod.ts";
import { silentLogger } from "../../support/logger.ts";
import { PluginError } from "../../../src/plugins/mod.ts";
import type { ConnectCall } from "../../../src/plugins/transport.ts";
import { SAMPLE_EVENT } from "../fake_transport.ts";
import { type FakeOptions, fakeProcessConfig, loadFake, Relays } from "./support.ts";
import type { Lines } from "../../support/child_lines.ts";

function callAs(username: string): ConnectCall {
  return {
    sni: "play.example.com",
    client: "203.0.113.7:41000",
    route: null,
    event: { ...SAMPLE_EVENT, username },
    state: {
      strategy: "",
      candidates: [],
      selectedIndex: -1,
      backend: null,
      referralContent: new Uint8Array(0),
    },
  };
}

async function loadFailure(options: FakeOptions): Promise<PluginError & { log: Lines }> {
  const err = await loadFake(options).then(async (f) => {
    await f.close();
    return null;
  }, (e) => e);
  assert.ok(err instanceof PluginError, `expected a load error, got ${err}`);
  assert.equal(err.kind, "load");
  assert.match(err.message, /^plugin "guard": /);
  return err as PluginError & { log: Lines };
}

Deno.test("start: ready with another socket path is a load error naming the expected one", async () => {
  const err = await loadFailure({ mode: "wrong_socket" });
  assert.match(err.message, /ready names socket ".*plugin\.sock\.mine"; the plugin must listen/);
  assert.match(err.message, /must listen on ".*\/guard\/plugin\.sock"/);
});

Deno.test("start: ready with only hooks the router never calls is a load error", async () => {
  const err = await loadFailure({ mode: "http_hooks" });
  assert.match(err.message, /only hooks this router never calls \(on_request, on_response\)/);
  assert.match(err.message, /on_connect and on_disconnect/);
});

Deno.test("start: never ready fails after ready_timeout, with its last stderr lines", async () => {
  const started = performance.now();
  const err = await loadFailure({ mode: "never_ready", readyTimeoutMs: 1_500 });
  const took = performance.now() - started;
  assert.match(err.message, /not ready within 1500 ms; last stderr: still warming up the ban list/);
  assert.ok(took < 6_000, `took ${took} ms`);
  // Its stderr went to the log too, tagged with the plugin's name.
  const line = JSON.parse(err.log.seen.find((l) => /still warming/.test(l))!);
  assert.equal(line.plugin, "guard");
  assert.equal(line.source, "stderr");
});

Deno.test("start: exiting at once or refusing configure is a load error saying so", async () => {
  assert.match((await loadFailure({ mode: "exit_at_once" })).message, /exited \(code 1\) before/);
  assert.match(
    (await loadFailure({ mode: "configure_error" })).message,
    /configure refused: refused config \{\}/,
  );
});

Deno.test("stdout lines that are not JSON or name unknown methods are logged and skipped", async () => {
  const fake = await loadFake({ mode: "not_json" });
  try {
    const lines = fake.log.seen.map((l) => JSON.parse(l));
    const skipped = lines.filter((l) => /not a JSON object|unknown lifecycle method/.test(l.msg));
    assert.deepEqual(skipped.map((l) => [l.plugin, l.line ?? l.method]), [
      ["guard", "this is not json"],
      ["guard", "bogus_method"],
      ["guard", "[1,2,3]"],
    ]);
    assert.equal((await fake.plugin.connect(callAs("deny"), 5_000)).deny, true, "still serving");
  } finally {
    await fake.close();
  }
});

Deno.test("a stdout line over 1 MiB is a protocol error: the process is restarted", async () => {
  const fake = await loadFake({
    mode: "long_line",
    backoff: { initialMs: 50, maxMs: 50, resetAfterMs: 60_000 },
  });
  try {
    const first = fake.plugin.pid;
    const error = JSON.parse((await fake.log.next(/plugin protocol error/)).input);
    assert.equal(error.plugin, "guard");
    assert.match(error.error, /a stdout line is over 1048576 bytes/);
    await fake.log.next(/plugin process exited; restarting it/);
    await fake.log.next(/plugin process ready/);
    assert.ok(fake.plugin.restarts >= 1);
    assert.notEqual(fake.plugin.pid, first);
  } finally {
    await fake.close();
  }
});

Deno.test("a crash: calls fail at once as unavailable, then the restarted process serves", async () => {
  const fake = await loadFake({});
  try {
    const err = await fake.plugin.connect(callAs("crash"), 5_000).catch((e) => e);
    assert.ok(err instanceof PluginError && err.kind === "unavailable", String(err));
    const exited = JSON.parse((await fake.log.next(/plugin process exited; restarting it/)).input);
    assert.equal(exited.code, 3);
    assert.equal(exited.restart_in_ms, 100);
    const started = performance.now();
    const down = await fake.plugin.connect(callAs("ok"), 5_000).catch((e) => e);
    assert.ok(down instanceof PluginError && down.kind === "unavailable", String(down));
    assert.match(down.message, /down \(restarting\)/);
    assert.ok(performance.now() - started < 100, "fails fast while down");
    await fake.log.next(/plugin process ready/);
    assert.equal((await fake.plugin.connect(callAs("deny"), 5_000)).deny, true);
    assert.equal(fake.plugin.restarts, 1);
  } finally {
    await fake.close();
  }
});

Deno.test("a process that exits right after ready is restarted with backoff, not in a busy loop", async () => {
  const fake = await loadFake({ mode: "ready_then_exit" });
  try {
    const since = performance.now();
    const delays: number[] = [];
    while (performance.now() - since < 1_500) {
      const m = await fake.log.next(/restarting it|failed to start again/, 5_000);
      delays.push(JSON.parse(m.input).restart_in_ms);
    }
    // 100, 200, 400, 800 … ms: within 1.5 s a handful of starts, each waiting longer.
    assert.ok(delays.length >= 2 && delays.length <= 6, `delays ${delays}`);
    assert.deepEqual(delays.slice(0, 3), [100, 200, 400].slice(0, delays.length));
    assert.ok(fake.plugin.restarts <= 6);
  } finally {
    await fake.close();
  }
});

Deno.test("reconfigure: same process, new config; a refused one keeps the old", async () => {
  const fake = await loadFake({ config: { v: 1 } });
  try {
    const pid = fake.plugin.pid;
    const configOf = async () => (await fake.plugin.connect(callAs("config"), 5_000)).denyReason;
    assert.equal(await configOf(), '{"v":1}');
    await fake.plugin.reconfigure({ v: 2 });
    assert.equal(await configOf(), '{"v":2}');
    const err = await fake.plugin.reconfigure({ reject: true }).catch((e) => e);
    assert.ok(err instanceof PluginError && err.kind === "load", String(err));
    assert.match(err.message, /^plugin "guard": configure refused: refused config/);
    assert.equal(await configOf(), '{"v":2}');
    assert.equal(fake.plugin.pid, pid, "the same process throughout");
  } finally {
    await fake.close();
  }
});

Deno.test("close: the process is stopped and calls fail as unavailable", async () => {
  const fake = await loadFake({});
  const pid = fake.plugin.pid!;
  await fake.close();
  assert.equal(fake.plugin.pid, null);
  const err = await fake.plugin.connect(callAs("ok"), 1_000).catch((e) => e);
  assert.ok(err instanceof PluginError && err.kind === "unavailable");
  // Signalling a process that no longer exists fails.
  assert.throws(() => Deno.kill(pid, "SIGCONT"));
});

Deno.test("close: a plugin that ignores stdin's end and SIGTERM is killed after 2 s", async () => {
  const fake = await loadFake({ mode: "stubborn" });
  const pid = fake.plugin.pid!;
  const started = performance.now();
  await fake.close();
  const took = performance.now() - started;
  assert.ok(took >= 1_900 && took < 5_000, `stopped after ${took} ms`);
  assert.throws(() => Deno.kill(pid, "SIGCONT"), "the process is gone");
});

Deno.test("start: a base folder others may use, or a symlink for the plugin's folder, is a load error", async () => {
  // The folders' paths are predictable (/tmp/gatehouse-<hash>/<name>): another local user could
  // have made them first.
  const process = await fakeProcessConfig();
  const root = dirname(process.socketDir);
  const elsewhere = await Deno.makeTempDir();
  const load = () =>
    loadProcessPlugin({ name: "guard", process, timeoutMs: 1_000, logger: silentLogger() })
      .then(async (p) => {
        await p.close();
        return null;
      }, (e) => e);
  try {
    await Deno.chmod(root, 0o777);
    const open = await load();
    assert.ok(open instanceof PluginError, `expected a load error, got ${open}`);
    assert.match(open.message, /may be used by other users \(mode 777\)/);
    await Deno.chmod(root, 0o700);
    await Deno.remove(process.socketDir, { recursive: true }).catch(() => {});
    await Deno.symlink(elsewhere, process.socketDir);
    const linked = await load();
    assert.ok(linked instanceof PluginError, `expected a load error, got ${linked}`);
    assert.match(linked.message, /is not a folder/);
  } finally {
    await Deno.remove(root, { recursive: true });
    await Deno.remove(elsewhere, { recursive: true });
  }
});

Deno.test("replace: retiring the old process leaves its successor's socket working", async () => {
  // A reload that changes a process plugin's command starts the new process on the same path
  // (stable per name) before the old one is retired.
  const process = await fakeProcessConfig();
  const relays = new Relays();
  const load = () =>
    loadProcessPlugin({
      name: "guard",
      process,
      timeoutMs: 5_000,
      logger: silentLogger(),
      connect: relays.connect,
    });
  try {
    const old = await load();
    const successor = await load();
    await old.close();
    // The successor's first hook connection is opened now, after the old one stopped.
    assert.equal((await successor.connect(callAs("deny"), 5_000)).deny, true);
    await successor.close();
  } finally {
    await relays.closeAll();
    await Deno.remove(dirname(process.socketDir), { recursive: true });
  }
});
