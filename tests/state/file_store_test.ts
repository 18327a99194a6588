/**
 * The file store's failure cases: a corrupt or oversized file is logged and ignored (the
 * router keeps running on the config's settings), a crashed writer's lock is taken over, and
 * what another process writes is picked up by the poll.
 */
import assert from "node:assert/strict";
import { loadConfig, parseMaintenance } from "../../src/config/mod.ts";
import { Logger } from "../../src/observability/mod.ts";
import {
  type ConsoleState,
  EMPTY_STATE,
  FileStore,
  MAX_STATE_BYTES,
  openControls,
} from "../../src/state/mod.ts";
import { within } from "../support/deadline.ts";

function recordingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = new Logger({
    level: "debug",
    format: "json",
    sink: { write: (line) => lines.push(line), now: () => new Date() },
  });
  return { logger, lines };
}

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "gatehouse-file-store-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const DRAINED: ConsoleState = { maintenance: null, drained: ["a.internal:5520"] };

Deno.test("file store: a corrupt file is logged and ignored, then overwritten by a save", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/state.json`;
    const { logger, lines } = recordingLogger();
    const store = new FileStore(path, { logger });
    for (
      const bad of ["{not json", '{"version":9,"drained":[]}', '{"version":1,"drained":["x"]}']
    ) {
      await Deno.writeTextFile(path, bad);
      assert.deepEqual(await store.load(), EMPTY_STATE, bad);
    }
    assert.ok(lines.some((l) => l.includes("ignoring the stored runtime state")), lines.join());
    assert.ok(lines.some((l) => l.includes("drained[0]")), "the bad entry is named");
    await store.save(DRAINED);
    assert.deepEqual(await store.load(), DRAINED);
    await store.close();
  });
});

Deno.test("file store: a file over 64 KiB is not read", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/state.json`;
    const { logger, lines } = recordingLogger();
    const store = new FileStore(path, { logger });
    await Deno.writeTextFile(
      path,
      `{"version":1,"drained":[],"pad":"${"x".repeat(MAX_STATE_BYTES)}"}`,
    );
    assert.deepEqual(await store.load(), EMPTY_STATE);
    assert.ok(lines.some((l) => l.includes(`over ${MAX_STATE_BYTES} bytes`)), lines.join());
    await store.close();
  });
});

Deno.test("file store: a state too large to save is refused, the file left as it was", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/state.json`;
    const store = new FileStore(path, { logger: recordingLogger().logger });
    await store.save(DRAINED);
    const huge = parseMaintenance({
      enabled: true,
      message_locales: Object.fromEntries(
        Array.from({ length: 64 }, (_, i) => [`l${i}`, "m".repeat(1024)]),
      ),
    });
    await assert.rejects(store.save({ maintenance: huge, drained: [] }), { code: "too_large" });
    assert.deepEqual(await store.load(), DRAINED);
    await assert.rejects(Deno.stat(`${path}.tmp`), Deno.errors.NotFound);
    await store.close();
  });
});

Deno.test("file store: a crashed writer's stale lock is removed; a live one is waited for", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/state.json`;
    const store = new FileStore(path, {
      logger: recordingLogger().logger,
      staleLockMs: 200,
      lockWaitMs: 2_000,
    });
    await Deno.writeTextFile(`${path}.tmp`, "half-written");
    const old = new Date(Date.now() - 60_000);
    await Deno.utime(`${path}.tmp`, old, old);
    await store.save(DRAINED);
    assert.deepEqual(await store.load(), DRAINED);

    const held = await Deno.open(`${path}.tmp`, { write: true, createNew: true });
    const waiting = store.save(EMPTY_STATE);
    const released = new Promise((r) => setTimeout(r, 50)).then(async () => {
      held.close();
      await Deno.remove(`${path}.tmp`);
    });
    await within(Promise.all([waiting, released]), 2_000, "the save after the lock is released");
    assert.deepEqual(await store.load(), EMPTY_STATE);
    await store.close();
  });
});

Deno.test("file store: another process's write is seen by the poll", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/state.json`;
    const store = new FileStore(path, { logger: recordingLogger().logger, pollMs: 10 });
    await store.load();
    const seen = Promise.withResolvers<ConsoleState>();
    store.watch(seen.resolve);
    // Written as another process would: a temp file renamed over the state file.
    await Deno.writeTextFile(
      `${path}.other`,
      JSON.stringify({ version: 1, maintenance: null, drained: ["b.internal:1"] }),
    );
    await Deno.rename(`${path}.other`, path);
    const got = await within(seen.promise, 2_000, "the poll to see the new file");
    assert.deepEqual(got.drained, ["b.internal:1"]);
    await store.close();
  });
});

Deno.test("file store: a FIFO (or any file that is not a regular file) is not opened", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/state.json`;
    const made = await new Deno.Command("mkfifo", { args: [path] }).output();
    assert.ok(made.success, "mkfifo");
    const { logger, lines } = recordingLogger();
    const store = new FileStore(path, { logger });
    try {
      // Opening a FIFO to read waits for a writer: the router would never finish starting.
      assert.deepEqual(await within(store.load(), 2_000, "load of a FIFO"), EMPTY_STATE);
      assert.ok(lines.some((l) => l.includes("not a regular file")), lines.join());
      await within(store.save(DRAINED), 2_000, "save over a FIFO");
      assert.ok((await Deno.lstat(path)).isFile, "the save replaced it with a file");
      assert.deepEqual(await store.load(), DRAINED);
    } finally {
      // Releases a read left waiting on the FIFO (when the check above failed).
      await Deno.open(path, { write: true }).then((f) => f.close(), () => {});
      await store.close();
    }
  });
});

Deno.test("file store: a state that would grow past 64 KiB as written is ignored, never fatal", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/state.json`;
    // 1000 bypass addresses, each stored as /32 (3 characters more), and translations filling
    // the file to just under the limit: read as it is, it could not be written back.
    const locales: Record<string, string> = {};
    const bypass = Array.from({ length: 1000 }, (_, i) => `10.0.${i >> 8}.${i & 255}`);
    const stored = () =>
      JSON.stringify({
        version: 1,
        maintenance: { enabled: true, bypass, message_locales: locales },
        drained: [],
      });
    for (let i = 0; stored().length < MAX_STATE_BYTES - 1100; i++) {
      locales[`l${i}`] = "x".repeat(1000);
    }
    locales.pad = "y".repeat(MAX_STATE_BYTES - stored().length - 20);
    await Deno.writeTextFile(path, stored());
    const { logger, lines } = recordingLogger();
    const config = await loadConfig("/srv/gh/config.yaml", {
      readTextFile: () => Promise.resolve(`admin: { state_file: ${path} }\n`),
    });
    const controls = await openControls(config, { logger });
    try {
      assert.equal(controls.maintenance.source, "config");
      assert.ok(lines.some((l) => l.includes("ignoring the stored runtime state")), lines.join());
    } finally {
      await controls.close();
    }
  });
});
