/**
 * The ConfigMap store against the fake API server: a replace that meets another writer's change
 * (409) is retried on the new state and loses nothing, a watch that breaks or expires is
 * re-listed and still reports changes, and an unusable ConfigMap is logged and ignored.
 */
import assert from "node:assert/strict";
import { Logger } from "../../src/observability/mod.ts";
import { type ConsoleState, encodeState, STATE_KEY } from "../../src/state/mod.ts";
import { FakeApiServer } from "../discovery/fake_api_server.ts";
import { within } from "../support/deadline.ts";
import { configMapStore } from "./stores.ts";

const COLLECTION = "/api/v1/configmaps";
const NAME = "gatehouse-state";

function configMap(state: ConsoleState | string) {
  const text = typeof state === "string" ? state : encodeState(state);
  return {
    metadata: { name: NAME, namespace: "hytale" },
    data: { [STATE_KEY]: text, "note.txt": "kept" },
  };
}

Deno.test("config_map store: a 409 conflict is retried on the new state, nothing lost", async () => {
  const fake = FakeApiServer.start();
  const store = await configMapStore(fake);
  try {
    fake.add(COLLECTION, configMap({ maintenance: null, drained: ["a.internal:1"] }));
    let calls = 0;
    const result = await store.update((s) => {
      // The first time, another replica writes between this read and the replace.
      if (++calls === 1) {
        fake.add(
          COLLECTION,
          configMap({ maintenance: null, drained: ["a.internal:1", "b.internal:2"] }),
        );
      }
      return { ...s, drained: [...s.drained, "c.internal:3"].sort() };
    });
    assert.equal(calls, 2);
    assert.equal(fake.conflicts, 1);
    assert.deepEqual(result.drained, ["a.internal:1", "b.internal:2", "c.internal:3"]);
    assert.deepEqual((await store.load()).drained, result.drained);
    const put = fake.requests.filter((r) => r.method === "PUT");
    assert.equal(put.length, 2);
  } finally {
    await store.close();
    await fake.close();
  }
});

Deno.test("config_map store: other data entries are kept by a replace", async () => {
  const fake = FakeApiServer.start();
  const store = await configMapStore(fake);
  try {
    fake.add(COLLECTION, configMap({ maintenance: null, drained: [] }));
    await store.save({ maintenance: null, drained: ["a.internal:1"] });
    const res = await fetch(`${fake.url}/api/v1/namespaces/hytale/configmaps/${NAME}`);
    const body = await res.json();
    assert.equal(body.data["note.txt"], "kept");
  } finally {
    await store.close();
    await fake.close();
  }
});

for (const how of ["reset", "close", "expire"] as const) {
  Deno.test(`config_map store: a watch that ends (${how}) is resumed and reports changes`, async () => {
    const fake = FakeApiServer.start();
    const watcher = await configMapStore(fake);
    const writer = await configMapStore(fake);
    try {
      await watcher.load();
      let wake = Promise.withResolvers<ConsoleState>();
      watcher.watch((s) => wake.resolve(s));
      await writer.save({ maintenance: null, drained: ["a.internal:1"] });
      assert.deepEqual((await within(wake.promise, 3_000, "first change")).drained, [
        "a.internal:1",
      ]);
      wake = Promise.withResolvers();
      if (how === "expire") fake.expireWatches();
      else fake.dropWatches(how);
      await writer.save({ maintenance: null, drained: ["b.internal:2"] });
      const got = await within(wake.promise, 3_000, "the change after the watch ended");
      assert.deepEqual(got.drained, ["b.internal:2"]);
    } finally {
      await watcher.close();
      await writer.close();
      await fake.close();
    }
  });
}

Deno.test("config_map store: an unusable state is logged and ignored, never thrown", async () => {
  const fake = FakeApiServer.start();
  const lines: string[] = [];
  const logger = new Logger({
    level: "debug",
    format: "json",
    sink: { write: (line) => lines.push(line), now: () => new Date() },
  });
  const store = await configMapStore(fake, logger);
  try {
    fake.add(COLLECTION, configMap('{"version":1,"drained":["no port"]}'));
    assert.deepEqual(await store.load(), { maintenance: null, drained: [] });
    assert.ok(lines.some((l) => l.includes("ignoring the stored runtime state")), lines.join());
    fake.add(COLLECTION, configMap("x".repeat(70_000)));
    assert.deepEqual((await store.load()).drained, []);
    await store.save({ maintenance: null, drained: ["a.internal:1"] });
    assert.deepEqual((await store.load()).drained, ["a.internal:1"]);
  } finally {
    await store.close();
    await fake.close();
  }
});

Deno.test("config_map store: a failing watch is logged as the state ConfigMap's, and retried", async () => {
  const fake = FakeApiServer.start();
  const lines: string[] = [];
  const logger = new Logger({
    level: "warn",
    format: "json",
    sink: { write: (line) => lines.push(line), now: () => new Date() },
  });
  const watcher = await configMapStore(fake, logger);
  const writer = await configMapStore(fake);
  try {
    await watcher.load();
    fake.failNext(1);
    const wake = Promise.withResolvers<ConsoleState>();
    watcher.watch((s) => wake.resolve(s));
    await writer.save({ maintenance: null, drained: ["a.internal:1"] });
    const got = await within(wake.promise, 3_000, "the change after the failed list");
    assert.deepEqual(got.drained, ["a.internal:1"]);
    assert.ok(lines.some((l) => l.includes("state ConfigMap API error, retrying")), lines.join());
    assert.ok(!lines.some((l) => l.includes("discovery")), lines.join());
  } finally {
    await watcher.close();
    await writer.close();
    await fake.close();
  }
});
