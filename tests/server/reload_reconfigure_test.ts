/**
 * A reload that changes only a process plugin's `process.config` keeps its process and sends it
 * the new config (prox's Reconfigure) before the swap; a refusal refuses the whole reload and
 * every plugin keeps the config it had (docs/plugins.md §7).
 */
import { assert, assertEquals } from "../support/assert.ts";
import { silentLogger } from "../support/logger.ts";
import { parseConfig } from "../../src/config/mod.ts";
import { PluginError, type TransportFactory } from "../../src/plugins/mod.ts";
import { GenerationSlot } from "../../src/server/generations.ts";
import { Reloader, type ReloadResult } from "../../src/server/reload.ts";
import { buildSnapshot } from "../../src/server/snapshot.ts";
import { FakeTransport } from "../plugins/fake_transport.ts";

/** A fake process plugin: records the configs it is sent, refuses `{ refuse: true }`. */
class Reconfigurable extends FakeTransport {
  readonly sent: unknown[] = [];

  constructor(name: string) {
    super(name, () => ({}));
  }

  reconfigure(config: unknown): Promise<void> {
    this.sent.push(config);
    if ((config as { refuse?: boolean }).refuse) {
      return Promise.reject(new PluginError(this.name, "load", "configure refused: no (test)"));
    }
    return Promise.resolve();
  }
}

function config(plugins: string[]): string {
  return `
listen: "127.0.0.1:0"
routing: { default: { strategy: round_robin, backends: [{ host: a.internal, port: 5520 }] } }
plugins:
${plugins.map((p) => `  - ${p}`).join("\n")}
`;
}

const proc = (name: string, settings: string) =>
  `{ name: ${name}, type: process, process: { command: [./${name}], ${settings} } }`;

async function setUp(yaml: string) {
  const made: Reconfigurable[] = [];
  const transports: TransportFactory = (c) => {
    const fake = new Reconfigurable(c.name);
    made.push(fake);
    return Promise.resolve(fake);
  };
  // The grant check asks Deno about this test process, which holds no socket grants.
  const deps = { logger: silentLogger(), transports, ungranted: () => [] };
  const slot = new GenerationSlot(await buildSnapshot(parseConfig(yaml, "/etc/gh/a.yaml"), deps));
  const reloader = await Reloader.create(slot, deps);
  const reload = (yaml: string) => reloader.reload(parseConfig(yaml, "/etc/gh/a.yaml"));
  return { made, slot, reloader, reload };
}

function changes(result: ReloadResult) {
  assert(result.ok, result.ok ? "" : result.errors.join("\n"));
  const { reused, reconfigured, loaded, closed } = result.plugins;
  return { reused, reconfigured, loaded, closed };
}

Deno.test("reload: a changed process.config goes to the running process; other changes start a new one", async () => {
  const { made, slot, reloader, reload } = await setUp(config([proc("p", "config: { v: 1 }")]));
  try {
    const first = made[0]!;
    assertEquals(changes(await reload(config([proc("p", "config: { v: 2 }")]))), {
      reused: ["p"],
      reconfigured: ["p"],
      loaded: [],
      closed: [],
    });
    assertEquals(first.sent, [{ v: 2 }]);
    assertEquals(slot.current.snapshot.chain.transports, [first]);
    // The same config again: nothing to send.
    assertEquals(changes(await reload(config([proc("p", "config: { v: 2 }")]))).reconfigured, []);
    assertEquals(first.sent, [{ v: 2 }]);
    // Another setting (pool_size): a new process, started with the new config.
    const next = changes(await reload(config([proc("p", "config: { v: 3 }, pool_size: 2")])));
    assertEquals(next, { reused: [], reconfigured: [], loaded: ["p"], closed: ["p"] });
    assertEquals(first.sent, [{ v: 2 }]);
    assertEquals(made.length, 2);
  } finally {
    await reloader.close();
  }
});

Deno.test("reload: a process plugin refusing its new config refuses the reload; the others get their old config back", async () => {
  const { made, slot, reloader, reload } = await setUp(
    config([proc("a", "config: { v: 1 }"), proc("b", "config: { v: 1 }")]),
  );
  try {
    const [a, b] = made;
    const running = slot.current.snapshot;
    const result = await reload(
      config([
        proc("a", "config: { v: 2 }"),
        proc("b", "config: { refuse: true }"),
        proc("c", "config: {}"),
      ]),
    );
    assert(!result.ok);
    assertEquals(result.errors, [
      '/etc/gh/a.yaml: plugin "b" refused its new config: plugin "b": configure refused: no (test)',
    ]);
    assertEquals(a!.sent, [{ v: 2 }, { v: 1 }]);
    assertEquals(b!.sent, [{ refuse: true }]);
    // Still the old snapshot, and the plugin that reload loaded is closed again.
    assertEquals(slot.current.snapshot, running);
    const c = made[2];
    assert(c?.name === "c" && c.closed, "the new plugin was closed");
    assert(!a!.closed && !b!.closed);
    // The running configs are still the old ones: a reload to them sends nothing.
    const same = changes(
      await reload(config([proc("a", "config: { v: 1 }"), proc("b", "config: { v: 1 }")])),
    );
    assertEquals(same.reconfigured, []);
    assertEquals(a!.sent, [{ v: 2 }, { v: 1 }]);
  } finally {
    await reloader.close();
  }
});
