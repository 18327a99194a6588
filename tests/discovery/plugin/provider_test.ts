/**
 * `type: plugin` providers: backends pushed by a process plugin (`set_targets`), read through a
 * feed bound after the chain loads; not synced before the first push of their target set.
 */
import type { Backend, DiscoveryProviderConfig } from "../../../src/config/mod.ts";
import { Discovery, type TargetFeed } from "../../../src/discovery/mod.ts";
import { assert, assertEquals } from "../../support/assert.ts";
import { silentLogger } from "../../support/logger.ts";

/** A feed the test pushes into, as a process plugin's transport would. */
class FakeFeed implements TargetFeed {
  readonly #sets = new Map<string, { list: readonly Backend[]; count: number; at: number }>();
  readonly #listeners = new Set<() => void>();

  push(routeId: string, hosts: readonly string[], at = 1_000): void {
    const list = hosts.map((host) => ({ host, port: 5520, weight: 1, meta: {} }));
    const count = (this.#sets.get(routeId)?.count ?? 0) + 1;
    this.#sets.set(routeId, { list, count, at });
    for (const listener of this.#listeners) listener();
  }

  targets(routeId: string): readonly Backend[] | null {
    return this.#sets.get(routeId)?.list ?? null;
  }

  pushes(routeId: string) {
    const set = this.#sets.get(routeId);
    return { count: set?.count ?? 0, lastAtMs: set?.at ?? null };
  }

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  get listeners(): number {
    return this.#listeners.size;
  }
}

const provider = (name: string, routeId = name): DiscoveryProviderConfig => ({
  name,
  insecureHttp: false,
  type: "plugin",
  plugin: { pluginName: "guard", routeId },
});

Deno.test("plugin provider: unsynced and empty until its target set is pushed", async () => {
  const discovery = await Discovery.start([provider("lobbies")], silentLogger());
  assertEquals(discovery.ready("lobbies"), false);
  assertEquals(discovery.discovered("lobbies"), []);
  assert(discovery.allReady(), "the pre-chain wait does not wait for pushes");
  const feed = new FakeFeed();
  discovery.bindFeeds((plugin) => plugin === "guard" ? feed : null);
  assertEquals(discovery.ready("lobbies"), false, "bound, nothing pushed yet");
  feed.push("other", ["10.0.0.9"]);
  assertEquals(discovery.ready("lobbies"), false, "another target set");
  feed.push("lobbies", ["10.0.0.1", "10.0.0.2"], 5_000);
  assertEquals(discovery.ready("lobbies"), true);
  assertEquals(discovery.discovered("lobbies").map((b) => b.host), ["10.0.0.1", "10.0.0.2"]);
  assertEquals(discovery.pushes("lobbies"), { count: 1, lastAtMs: 5_000 });
  feed.push("lobbies", []);
  assertEquals(discovery.discovered("lobbies"), [], "an empty push empties the pool");
  assertEquals(discovery.ready("lobbies"), true, "but it is still synced");
  discovery.close();
  assertEquals(feed.listeners, 0, "closing unsubscribes");
});

Deno.test("plugin provider: route_id picks the target set; an unbound plugin stays unsynced", async () => {
  const discovery = await Discovery.start(
    [provider("a", "set-a"), provider("b", "set-b")],
    silentLogger(),
  );
  const feed = new FakeFeed();
  discovery.bindFeeds(() => feed);
  feed.push("set-b", ["10.1.0.1"]);
  assertEquals([discovery.ready("a"), discovery.ready("b")], [false, true]);
  assertEquals(discovery.discovered("b").map((b) => b.host), ["10.1.0.1"]);
  assertEquals(discovery.pushes("a"), { count: 0, lastAtMs: null });
  discovery.close();
  const unbound = await Discovery.start([provider("c")], silentLogger());
  unbound.bindFeeds(() => null);
  assertEquals(unbound.ready("c"), false);
  unbound.close();
});
