/**
 * The three stores as the conformance suite and the controls tests open them: two stores on
 * one backing (a file, a fake API server's ConfigMap) stand for two replicas.
 */
import { ConfigMapApi } from "../../src/discovery/mod.ts";
import type { Logger } from "../../src/observability/mod.ts";
import { ConfigMapStore, FileStore, MemoryStore, type StateStore } from "../../src/state/mod.ts";
import { FakeApiServer, plainConnection } from "../discovery/fake_api_server.ts";
import { silentLogger } from "../support/logger.ts";

/** One backing shared by the stores `open()` returns. */
export interface Backing {
  readonly name: string;
  /** Whether a second store sees the first's writes. */
  readonly shared: boolean;
  open(logger?: Logger): Promise<StateStore>;
  close(): Promise<void>;
}

/** Fast retries for the tests: a broken watch is re-listed within tens of milliseconds. */
export const FAST_BACKOFF = { initialMs: 10, maxMs: 50 };

/** A ConfigMap `hytale/gatehouse-state` on `fake`. */
export function configMapStore(fake: FakeApiServer, logger = silentLogger()): Promise<StateStore> {
  return ConfigMapApi.open(null, { namespace: "hytale", name: "gatehouse-state" }, {
    connect: () => Promise.resolve(plainConnection(fake.url)),
    backoff: FAST_BACKOFF,
  }).then((api) => new ConfigMapStore(api, logger));
}

/** Every store kind, each on a fresh backing. */
export const BACKINGS: readonly (() => Promise<Backing>)[] = [
  () => {
    const store = new MemoryStore();
    return Promise.resolve({
      name: "memory",
      shared: false,
      open: () => Promise.resolve(store),
      close: () => Promise.resolve(),
    });
  },
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "gatehouse-state-" });
    return {
      name: "file",
      shared: true,
      open: (logger = silentLogger()) =>
        Promise.resolve(new FileStore(`${dir}/state.json`, { logger, pollMs: 10 })),
      close: () => Deno.remove(dir, { recursive: true }),
    };
  },
  () => {
    const fake = FakeApiServer.start();
    return Promise.resolve({
      name: "config_map",
      shared: true,
      open: (logger = silentLogger()) => configMapStore(fake, logger),
      close: () => fake.close(),
    });
  },
];
