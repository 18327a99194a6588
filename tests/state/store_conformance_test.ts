/**
 * Every runtime-state store through the same cases: empty at first, what is saved is loaded
 * again (by a new store on the same backing: a restart), `update` changes what is stored now,
 * and a shared store's watch reports another writer's change — never its own.
 */
import assert from "node:assert/strict";
import { parseMaintenance } from "../../src/config/mod.ts";
import { type ConsoleState, EMPTY_STATE, type StateStore } from "../../src/state/mod.ts";
import { within } from "../support/deadline.ts";
import { type Backing, BACKINGS } from "./stores.ts";

const ON: ConsoleState = {
  maintenance: parseMaintenance({
    enabled: true,
    message: "Back at 18:00",
    message_locales: { de: "Zurück um 18 Uhr" },
    bypass: ["Steve", "10.0.0.0/8"],
  }),
  drained: ["a.internal:5520"],
};

async function withBacking(
  make: () => Promise<Backing>,
  body: (b: Backing, stores: StateStore[]) => Promise<void>,
): Promise<void> {
  const backing = await make();
  const stores: StateStore[] = [];
  try {
    await body(backing, stores);
  } finally {
    for (const s of stores) await s.close();
    await backing.close();
  }
}

/** Opens a store that `withBacking` closes. */
async function open(b: Backing, stores: StateStore[]): Promise<StateStore> {
  const store = await b.open();
  stores.push(store);
  return store;
}

for (const make of BACKINGS) {
  const name = await make().then(async (b) => (await b.close(), b.name));

  Deno.test(`${name} store: empty at first, saved state loads again after a restart`, async () => {
    await withBacking(make, async (b, stores) => {
      const first = await open(b, stores);
      assert.deepEqual(await first.load(), EMPTY_STATE);
      await first.save(ON);
      assert.deepEqual(await first.load(), ON);
      await first.close();
      const again = await open(b, stores);
      assert.deepEqual(await again.load(), ON);
      assert.equal(again.kind, name);
    });
  });

  Deno.test(`${name} store: update applies the change to what is stored now`, async () => {
    await withBacking(make, async (b, stores) => {
      const store = await open(b, stores);
      await store.save(ON);
      const next = await store.update((s) => ({
        ...s,
        drained: [...s.drained, "b.internal:5520"],
      }));
      assert.deepEqual(next.drained, ["a.internal:5520", "b.internal:5520"]);
      assert.deepEqual((await store.load()).drained, next.drained);
      assert.deepEqual((await store.load()).maintenance, ON.maintenance);
    });
  });

  Deno.test(`${name} store: a change that throws stores nothing`, async () => {
    await withBacking(make, async (b, stores) => {
      const store = await open(b, stores);
      await store.save(ON);
      await assert.rejects(
        store.update(() => {
          throw new Error("refused");
        }),
        /refused/,
      );
      assert.deepEqual(await store.load(), ON);
      await store.save(EMPTY_STATE); // the file lock was released
    });
  });

  Deno.test(`${name} store: watch reports another writer's change, not its own`, async () => {
    await withBacking(make, async (b, stores) => {
      const watcher = await open(b, stores);
      const writer = await open(b, stores);
      await watcher.load();
      const seen: ConsoleState[] = [];
      const changed = Promise.withResolvers<ConsoleState>();
      const stop = watcher.watch((s) => (seen.push(s), changed.resolve(s)));
      if (!b.shared) {
        await writer.save(ON);
        assert.deepEqual(seen, []);
        stop();
        return;
      }
      await watcher.save({ maintenance: null, drained: ["own.internal:1"] });
      await writer.save(ON);
      const got = await within(changed.promise, 3_000, "the other writer's change");
      assert.deepEqual(got, ON);
      assert.ok(seen.every((s) => s.drained[0] !== "own.internal:1"), "its own save reported");
      stop();
    });
  });

  Deno.test(`${name} store: concurrent updates from two writers both land`, async () => {
    await withBacking(make, async (b, stores) => {
      const one = await open(b, stores);
      const two = b.shared ? await open(b, stores) : one;
      const add = (key: string) => (s: ConsoleState) => ({
        ...s,
        drained: [...s.drained, key].sort(),
      });
      await Promise.all([
        ...Array.from({ length: 5 }, (_, i) => one.update(add(`one.internal:${i + 1}`))),
        ...Array.from({ length: 5 }, (_, i) => two.update(add(`two.internal:${i + 1}`))),
      ]);
      const drained = (await one.load()).drained;
      assert.equal(drained.length, 10, drained.join(" "));
    });
  });
}
