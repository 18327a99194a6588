/**
 * `wasm.isolation: process`: the plugin's instances run in a child Deno process with no
 * permissions and a capped heap. What a user sees: calls answer; runaway calls fail as
 * `timeout` and the plugin serves again; a child that stops answering, breaks the protocol or
 * dies is killed and replaced; the router survives a heap bomb; close() leaves no process.
 */
import assert from "node:assert/strict";
import type { Logger } from "../../../src/observability/mod.ts";
import { PluginError, type PluginTransport } from "../../../src/plugins/transport.ts";
import {
  childArgs,
  heapCapMiB,
  workerSourceFiles,
} from "../../../src/plugins/wasm/process_command.ts";
import { ProcessHost } from "../../../src/plugins/wasm/process_host.ts";
import type { Lines } from "../../support/child_lines.ts";
import { commandLine, endsWithin, processExists } from "../../support/process_router.ts";
import { captureLogger, fixture, load, req, text } from "./support.ts";

// The runaway call's deadline (see the infinite-loop test): long enough that an answer held back
// until it ends stands apart from a round trip delayed by a loaded machine.
const TIMEOUT_MS = 1_000;
// Scheduling slack on top of a timeout (see isolation_test.ts): "stopped near the timeout".
const MARGIN_MS = 400;
const hostile = await fixture("hostile");
const STAND_IN = new URL("./stand_in_child.ts", import.meta.url);
const WASM_DIR = new URL("../../../src/plugins/wasm/", import.meta.url);

function pidOf(p: PluginTransport): number {
  const pid = (p as ProcessHost).pid;
  assert.ok(pid !== null, "no child process");
  return pid;
}

const alive = processExists;

/**
 * Whether process `pid` is gone within 2 s (a killed child is reaped asynchronously). Polled:
 * the host keeps its child's exit to itself, so there is no event for a test to await.
 */
const gone = (pid: number) => endsWithin(pid, alive);

/** Awaits the host's log line for a restarted child (≤ 10 s); then the next call is answered. */
async function servedAgain(p: PluginTransport, log: Lines): Promise<void> {
  await log.next(/"msg":"plugin process restarted"/, 10_000);
  assert.equal(text(await p.call(req("{}"), 1000)), "{}");
}

/** A ProcessHost running the stand-in child (same flags as the real one). */
async function standIn(logger: Logger, graceMs = 100): Promise<ProcessHost> {
  const host = new ProcessHost({
    name: "stand-in",
    module: hostile,
    prepare: { path: "stand-in.wasm", sha256: null, maxMemoryBytes: 16 << 20 },
    config: "{}",
    instances: 1,
    initTimeoutMs: 5000,
    terminateGraceMs: graceMs,
    logger,
    breaker: {},
    childUrl: STAND_IN,
  });
  await host.start();
  return host;
}

Deno.test("process isolation: calls answer from a child with no permissions but read on the worker's files, and a heap cap", async () => {
  const { logger, lines } = captureLogger();
  const p = await load("proc", hostile, { isolation: "process", logger });
  try {
    assert.equal(text(await p.call(req("{}"), 1000)), "{}");
    assert.equal(text(await p.call(req("W"), 1000)), "{}");
    const cmd = await commandLine(pidOf(p));
    assert.ok(
      cmd.includes(`--v8-flags=--max-old-space-size=${heapCapMiB(16 << 20)}`),
      cmd.join(" "),
    );
    assert.ok(cmd.includes("--no-prompt"), cmd.join(" "));
    const allow = cmd.filter((a) => a.startsWith("--allow-") || a.startsWith("-A"));
    const worker = new URL("worker.ts", WASM_DIR);
    assert.deepEqual(allow, [`--allow-read=${workerSourceFiles(worker).join(",")}`]);
  } finally {
    await p.close();
  }
  // The module's output reaches the router's log, tagged with the plugin and its source.
  assert.ok(
    lines.some((l) => l.includes('"msg":"boom"') && l.includes('"source":"plugin"')),
    lines.join("\n"),
  );
});

Deno.test("process isolation: the child's read grant is exactly the worker's code imports (deno info)", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", new URL("worker.ts", WASM_DIR).pathname],
  }).output();
  const graph = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    roots: string[];
    modules: { specifier: string; dependencies?: { code?: { specifier: string } }[] }[];
  };
  // The modules reachable from the root through code (not type-only) dependencies.
  const bySpecifier = new Map(graph.modules.map((m) => [m.specifier, m]));
  const code = new Set<string>();
  const visit = (specifier: string) => {
    if (code.has(specifier)) return;
    code.add(specifier);
    for (const d of bySpecifier.get(specifier)?.dependencies ?? []) {
      if (d.code) visit(d.code.specifier);
    }
  };
  visit(graph.roots[0]!);
  const expected = [...code].map((s) => new URL(s).pathname).sort();
  assert.deepEqual(workerSourceFiles(new URL("worker.ts", WASM_DIR)).sort(), expected);
});

Deno.test("process isolation: the child's command from source, from the bundle, and not in a compiled binary", () => {
  const o = { name: "p", maxMemoryBytes: 64 << 20 };
  const fromSource = childArgs(o);
  assert.equal(fromSource.at(-1), new URL("process_child_entry.ts", WASM_DIR).pathname);
  assert.ok(fromSource.includes("--v8-flags=--max-old-space-size=192"), fromSource.join(" "));
  // The bundle runs itself with the hidden command and needs no read at all (inlined worker).
  const bundled = childArgs(o, "file:///opt/gh/gatehouse.js");
  assert.deepEqual(bundled.slice(-2), ["/opt/gh/gatehouse.js", "__wasm-process-child"]);
  assert.deepEqual(bundled.filter((a) => a.startsWith("--allow")), []);
  assert.throws(
    () => childArgs(o, "file:///tmp/deno-compile-gatehouse/src/plugins/wasm/process_command.ts"),
    (e) => e instanceof PluginError && e.kind === "load" && /compiled binary/.test(e.message),
  );
});

/**
 * Guards: a runaway call fails as `timeout` at its deadline (the host's timer, not the child's
 * say-so), the deadline flag stops it inside the child (same pid, nothing abandoned), and the
 * child answers well-behaved calls while the runaway one spins instead of holding their answers
 * back until it ends. The runaway call gets a full second (TIMEOUT_MS): a held-back answer then
 * takes about that long, far apart from a well-behaved call's round trip even when a loaded
 * 2-core machine delays it (~60 ms seen beside two busy loops; with a 200 ms deadline and a
 * 100 ms bound, that noise sat too close to the bound).
 */
Deno.test("process isolation: an infinite loop fails as timeout at the deadline; the same child serves on", async () => {
  const p = await load("loop", hostile, { isolation: "process", timeoutMs: TIMEOUT_MS });
  try {
    const pid = pidOf(p);
    const started = performance.now();
    let meanwhile = 0;
    let stop = false;
    const bad = p.call(req("L"), TIMEOUT_MS).then(
      () => assert.fail("loop answered"),
      (e) => e,
    ).finally(() => stop = true);
    let slowest = 0;
    while (!stop) {
      const t0 = performance.now();
      // A generous timeout of their own: a held-back answer shows as `slowest`, below.
      assert.equal(text(await p.call(req("{}"), 5 * TIMEOUT_MS)), "{}");
      slowest = Math.max(slowest, performance.now() - t0);
      if (!stop) meanwhile++;
    }
    const e = await bad;
    const elapsed = performance.now() - started;
    assert.ok(e instanceof PluginError, String(e));
    assert.equal(e.kind, "timeout");
    assert.match(e.message, /no answer within 1000 ms/);
    assert.ok(elapsed < TIMEOUT_MS + MARGIN_MS, `failed after ${elapsed} ms`);
    // Counted only when answered while the runaway call was still pending.
    assert.ok(meanwhile > 0, "no well-behaved call was answered while the loop ran");
    // The child batches answers, but never holds one back until the runaway call ends: that
    // would take about TIMEOUT_MS (the first call is sent beside the runaway one).
    assert.ok(slowest < TIMEOUT_MS / 2, `a well-behaved call took ${slowest} ms`);
    const after = await Promise.all([p.call(req("{}"), 1000), p.call(req("{}"), 1000)]);
    assert.deepEqual(after.map(text), ["{}", "{}"]);
    // The deadline flag stopped it inside the child: nothing was killed.
    assert.equal(pidOf(p), pid);
    assert.equal(p.abandonedWorkers, 0);
  } finally {
    await p.close();
  }
});

Deno.test("process isolation: proc_exit and a trap are traps; the next call is served", async () => {
  const p = await load("crash", hostile, { isolation: "process" });
  try {
    for (const [op, pattern] of [["E", /proc_exit\(3\)/], ["T", /RuntimeError: unreachable/]]) {
      const e = await p.call(req(op as string), 1000).catch((e) => e);
      assert.ok(e instanceof PluginError, String(e));
      assert.equal(e.kind, "trap");
      assert.match(e.message, pattern as RegExp);
      assert.match(e.message, /^plugin "crash": on_connect/);
      assert.equal(text(await p.call(req("{}"), 1000)), "{}");
    }
  } finally {
    await p.close();
  }
});

Deno.test("process isolation: a module the loader refuses fails the load with the same message", async () => {
  const empty = Uint8Array.of(0, 0x61, 0x73, 0x6d, 1, 0, 0, 0);
  const messages = [];
  for (const isolation of ["worker", "process"] as const) {
    const e = await load("empty", empty, { isolation }).then(() => null, (e) => e);
    assert.ok(e instanceof PluginError, String(e));
    assert.equal(e.kind, "load");
    messages.push(e.message);
  }
  assert.equal(messages[1], messages[0]);
  assert.match(messages[0]!, /does not export its linear memory/);
});

Deno.test("process isolation: a child that stops answering is killed after the grace, counted and replaced", async () => {
  const { logger, lines, log } = captureLogger();
  const host = await standIn(logger, 100);
  try {
    const pid = pidOf(host);
    const started = performance.now();
    const e = await host.call(req("hang"), 100).catch((e) => e);
    assert.equal(e.kind, "timeout");
    assert.ok(performance.now() - started < 100 + MARGIN_MS);
    const queued = host.call(req("{}"), 5000).catch((e) => e);
    // Killed 100 ms past the deadline; its queued call fails as timeout with it.
    const q = await queued;
    assert.ok(q instanceof PluginError, String(q));
    assert.equal(q.kind, "timeout");
    assert.match(q.message, /unresponsive past a deadline; killed/);
    // While it restarts, calls fail at once.
    const down = await host.call(req("{}"), 1000).catch((e) => e);
    assert.equal(down.kind, "unavailable");
    assert.match(down.message, /plugin process is restarting/);
    assert.equal(host.abandonedWorkers, 1);
    assert.ok(await gone(pid), `process ${pid} still there`);
    await servedAgain(host, log);
    assert.notEqual(pidOf(host), pid);
  } finally {
    await host.close();
  }
  const killed = lines.filter((l) => l.includes("plugin process unresponsive; killed it"));
  assert.equal(killed.length, 1, lines.join("\n"));
  assert.match(killed[0]!, /"level":"error"/);
});

Deno.test("process isolation: a worker the child's host abandons gets the child killed and replaced", async () => {
  const { logger, lines, log } = captureLogger();
  const p = await load("silent", hostile, {
    isolation: "process",
    logger,
    instances: 1,
    terminateGraceMs: 100,
    workerUrl: new URL("./silent_worker.ts", import.meta.url),
  });
  try {
    const pid = pidOf(p);
    const e = await p.call(req("hang"), 100).catch((e) => e);
    assert.equal(e.kind, "timeout");
    await servedAgain(p, log);
    assert.equal(p.abandonedWorkers, 1);
    assert.notEqual(pidOf(p), pid);
    assert.ok(await gone(pid), `process ${pid} still there`);
  } finally {
    await p.close();
  }
  assert.ok(
    lines.some((l) => l.includes("its host gave up a worker")),
    lines.join("\n"),
  );
});

Deno.test("process isolation: a malformed frame from the child kills and replaces it", async () => {
  const { logger, lines, log } = captureLogger();
  const host = await standIn(logger);
  try {
    const pid = pidOf(host);
    const e = await host.call(req("garbage"), 1000).catch((e) => e);
    assert.ok(e instanceof PluginError, String(e));
    assert.equal(e.kind, "unavailable");
    assert.match(e.message, /bad frame: frame of 4294967295 bytes \(limit \d+\)/);
    assert.ok(await gone(pid), `process ${pid} still there`);
    await servedAgain(host, log);
    assert.equal(host.abandonedWorkers, 0);
  } finally {
    await host.close();
  }
  assert.ok(lines.some((l) => l.includes("plugin process failed; killed it")), lines.join("\n"));
});

Deno.test("process isolation: the child process holds no permissions but read on the worker's files", async () => {
  const host = await standIn(captureLogger().logger);
  try {
    const probe = JSON.parse(text(await host.call(req("probe"), 5000)));
    assert.deepEqual(probe, {
      readWorkerSource: "ok",
      readOwnScript: "NotCapable",
      readEtcPasswd: "NotCapable",
      write: "NotCapable",
      env: "NotCapable",
      net: "NotCapable",
      run: "NotCapable",
      sys: "NotCapable",
      ffi: "NotCapable",
    });
  } finally {
    await host.close();
  }
});

Deno.test("process isolation: a heap bomb past the V8 cap ends only the child; the plugin recovers", async () => {
  const { logger, lines, log } = captureLogger();
  const p = await standIn(logger, 5000);
  try {
    const pid = pidOf(p);
    const e = await p.call(req("heap"), 10_000).catch((e) => e);
    assert.ok(e instanceof PluginError, String(e));
    assert.equal(e.kind, "trap");
    assert.match(e.message, /plugin process exited \(signal SIGTRAP\): .*out of memory/);
    // This process (the router) is fine, and a new child serves.
    await servedAgain(p, log);
    assert.notEqual(pidOf(p), pid);
    assert.equal(p.abandonedWorkers, 0);
  } finally {
    await p.close();
  }
  assert.ok(
    lines.some((l) => l.includes("plugin process exited; restarting it")),
    lines.join("\n"),
  );
});

Deno.test("process isolation: close() kills the child and waits for it; no process is left", async () => {
  const p = await load("closing", hostile, { isolation: "process" });
  const pid = pidOf(p);
  assert.ok(await alive(pid));
  const pending = p.call(req("L"), 5000).catch((e) => e);
  await p.close();
  assert.ok(!await alive(pid), `process ${pid} still there`);
  const e = await pending;
  assert.equal(e.kind, "unavailable");
  assert.match(e.message, /plugin closed/);
  const after = await p.call(req("{}"), 1000).catch((e) => e);
  assert.equal(after.kind, "unavailable");
  const kids = await new Deno.Command("pgrep", { args: ["-P", String(Deno.pid)] }).output();
  assert.equal(new TextDecoder().decode(kids.stdout).trim(), "", "child processes left");
});
