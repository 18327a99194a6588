/** Live reload's file handling: validation as `check` does it, unchanged files, forced reloads. */
import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { LiveReload } from "../../src/cli/live_reload.ts";
import type { Config } from "../../src/config/mod.ts";
import { Logger } from "../../src/observability/mod.ts";
import type { ReloadResult } from "../../src/server/mod.ts";

const VALID = (host: string) =>
  `routing:\n  default: { strategy: round_robin, backends: [{ host: ${host}, port: 5520 }] }\n`;

async function setup(initial: string) {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/config.yaml`;
  await Deno.writeTextFile(path, initial);
  const applied: Config[] = [];
  const reported: ReloadResult[] = [];
  const logs: string[] = [];
  const server = {
    reload: (config: Config): Promise<ReloadResult> => {
      applied.push(config);
      const plugins = { reused: [], reconfigured: [], loaded: [], closed: [] };
      return Promise.resolve({
        ok: true,
        source: config.source,
        plugins,
        discovery: { reused: [], started: [] },
        retired: Promise.resolve(),
      });
    },
  };
  const logger = new Logger({
    level: "debug",
    format: "text",
    sink: { write: (line) => logs.push(line), now: () => new Date() },
  });
  const live = new LiveReload(server, {
    path,
    logger,
    loadedText: initial,
    onReload: (r) => reported.push(r),
    watch: false,
  });
  const hosts = () => applied.map((c) => c.routing.default!.backends[0]!.host);
  return { dir, path, live, hosts, reported, logs };
}

Deno.test("a changed, valid file is handed to the server; an unchanged one only when forced", async () => {
  const t = await setup(VALID("a.internal"));
  try {
    assertEquals(await t.live.reload(false), null);
    await Deno.writeTextFile(t.path, VALID("b.internal"));
    assert((await t.live.reload(false))?.ok);
    assertEquals(await t.live.reload(false), null);
    assert((await t.live.reload(true))?.ok); // SIGHUP: even the same text
    assertEquals(t.hosts(), ["b.internal", "b.internal"]);
    assertEquals(t.reported.length, 2);
  } finally {
    await t.live.close();
    await Deno.remove(t.dir, { recursive: true });
  }
});

Deno.test("an invalid file is reported with file:line:col, once, and never reaches the server", async () => {
  const t = await setup(VALID("a.internal"));
  try {
    await Deno.writeTextFile(t.path, VALID("b.internal").replace("round_robin", "round_robbin"));
    const result = await t.live.reload(false);
    assert(result && !result.ok);
    assertEquals(result.errors.length, 1);
    assertMatch(result.errors[0]!, /config\.yaml:2:24 routing\.default\.strategy: .*"round_robin"/);
    assert(t.logs.some((l) => l.includes("reload error") && l.includes("config.yaml:2:24")));
    assert(t.logs.some((l) => /ERROR reload failed; still serving the previous config/.test(l)));
    assertEquals(await t.live.reload(false), null); // the same broken text is not re-reported
    assert(!(await t.live.reload(true))?.ok);
    await Deno.remove(t.path);
    const missing = await t.live.reload(false);
    assert(missing && !missing.ok);
    assertMatch(missing.errors[0]!, /cannot read config file/);
    assertEquals([t.hosts(), t.reported.length], [[], 3]);
  } finally {
    await t.live.close();
    await Deno.remove(t.dir, { recursive: true });
  }
});

Deno.test("a config file that cannot be watched leaves reload on SIGHUP, with a warning", async () => {
  // Watching needs the directory; one that does not exist (or is not readable) makes
  // Deno.watchFs throw, which must not take the router down.
  const logs: string[] = [];
  const logger = new Logger({
    level: "warn",
    format: "text",
    sink: { write: (line) => logs.push(line), now: () => new Date() },
  });
  const server = { reload: () => Promise.reject(new Error("not called")) };
  const live = new LiveReload(server, {
    path: "/nonexistent-gatehouse-dir/config.yaml",
    logger,
    loadedText: null,
  });
  await live.close();
  assertEquals(logs.length, 1, logs.join("\n"));
  assertMatch(logs[0]!, /WARN +cannot watch the config file; reloading on SIGHUP only/);
});
