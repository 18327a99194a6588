import assert from "node:assert/strict";
import { PluginError } from "../../../src/plugins/transport.ts";
import { captureLogger, fixture, load, req, text } from "./support.ts";

async function loadError(name: string, bytes: Uint8Array, overrides = {}): Promise<PluginError> {
  try {
    const p = await load(name, bytes, overrides);
    await p.close();
  } catch (e) {
    assert.ok(e instanceof PluginError, `not a PluginError: ${e}`);
    assert.equal(e.kind, "load");
    assert.equal(e.plugin, name);
    return e;
  }
  throw new Error(`${name} loaded`);
}

Deno.test("load: a command module (exports _start) is refused", async () => {
  const e = await loadError("cmd", await fixture("command"));
  assert.match(e.message, /plugin "cmd".*command module \(exports _start\)/);
});

Deno.test("load: an unknown import is named", async () => {
  const e = await loadError("imp", await fixture("unknown_import"));
  assert.match(e.message, /imports unknown "env\.abort"/);
});

Deno.test("load: a missing required export is named", async () => {
  const e = await loadError("exp", await fixture("missing_export"));
  assert.match(e.message, /does not export required function "on_connect"/);
});

Deno.test("load: a trap in _initialize is a load error", async () => {
  const e = await loadError("trapinit", await fixture("init_trap"));
  assert.match(e.message, /_initialize trapped/);
});

Deno.test("load: a worker that fails before it is ready fails the load instead of hanging", async () => {
  const workerUrl = new URL("./broken_worker.ts", import.meta.url);
  const e = await loadError("broken", await fixture("hostile"), { workerUrl });
  assert.match(e.message, /worker failed: .*broken worker script/);
});

Deno.test("load: not WebAssembly at all", async () => {
  const e = await loadError("junk", req("hello"));
  assert.match(e.message, /not a valid WebAssembly module/);
});

Deno.test("load: unreadable file names the path", async () => {
  const e = await loadError("gone", new Uint8Array(), {
    readFile: () => Promise.reject(new Error("No such file")),
  });
  assert.match(e.message, /cannot read module gone\.wasm: No such file/);
});

Deno.test("load: sha256 pin is checked before compiling", async () => {
  const bytes = await fixture("config_echo");
  const digest = Array.from(
    new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
  const ok = await load("pinned", bytes, { sha256: digest.toUpperCase() });
  await ok.close();
  const e = await loadError("pinned", bytes, { sha256: "00".repeat(32) });
  assert.match(e.message, new RegExp(`sha256 is ${digest}, but wasm\\.sha256 pins 0000`));
  // A pinned garbage file fails on the pin, not on compilation.
  const junk = await loadError("pinned", req("junk"), { sha256: "00".repeat(32) });
  assert.match(junk.message, /sha256 is/);
});

Deno.test("load: init gets wasm.config as JSON; non-zero is a load error", async () => {
  const bytes = await fixture("config_echo");
  const p = await load("cfg", bytes, { config: { greeting: "hi", n: [1, 2] } });
  try {
    assert.equal(text(await p.call(req("{}"), 500)), '{"greeting":"hi","n":[1,2]}');
  } finally {
    await p.close();
  }
  const unset = await load("cfg", bytes, { config: undefined });
  try {
    assert.equal(text(await unset.call(req("{}"), 500)), "{}");
  } finally {
    await unset.close();
  }
  const e = await loadError("cfg", bytes, { config: "a string" });
  assert.match(e.message, /init returned 5/);
});

Deno.test("load: a start function that never returns is stopped during load", async () => {
  const started = performance.now();
  const e = await loadError("startloop", await fixture("start_loop"), {
    initTimeoutMs: 100,
    terminateGraceMs: 500,
  });
  assert.match(e.message, /__gatehouse_start: stopped at the deadline/);
  assert.ok(performance.now() - started < 1000);
});

Deno.test("load: a worker slow to boot still loads; init keeps its own deadline", async () => {
  // The worker spends 1 s booting, far past init's 100 ms: only the instance's initialisation
  // is held to that deadline (the previous test), not the thread starting up.
  const p = await load("slowboot", await fixture("go_style"), {
    instances: 1,
    initTimeoutMs: 100,
    terminateGraceMs: 100,
    workerUrl: new URL("./slow_boot_worker.ts", import.meta.url),
  });
  try {
    assert.match(text(await p.call(req("{}"), 1_000)), /referral_data/);
  } finally {
    await p.close();
  }
});

Deno.test("load: initial memory above max_memory is refused", async () => {
  const e = await loadError("big", await fixture("go_style"), { maxMemoryBytes: 65536 });
  assert.match(e.message, /memory 0 starts at 128 KiB, above max_memory \(64 KiB\)/);
});

Deno.test("load: logs of a plugin carry its name", async () => {
  const { logger, lines } = captureLogger();
  const p = await load("talker", await fixture("hostile"), { logger });
  try {
    await p.call(req("W"), 500);
  } finally {
    await p.close();
  }
  const logs = lines.map((l) => JSON.parse(l));
  assert.deepEqual(
    logs.map((l) => [l.level, l.msg, l.plugin, l.source]),
    [
      ["info", "hello", "talker", "stdout"],
      ["info", "world", "talker", "stdout"],
      ["error", "boom", "talker", "plugin"],
    ],
  );
});
