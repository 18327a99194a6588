import type { AgonesDiscoveryConfig, Backend } from "../../config/mod.ts";
import type { GameServer } from "../kube/objects.ts";
import { collectionPaths } from "../kube/paths.ts";
import type { ResourceSource, SnapshotProvider, SourceFactory } from "../provider.ts";
import { gameServerBackend } from "./backends.ts";

/**
 * The `agones` provider in `observe` mode: watches `gameservers.agones.dev/v1` (per configured
 * namespace, or cluster-wide) with the label selector, and keeps the GameServers in an allowed
 * state as backends.
 */
export class AgonesObserver implements SnapshotProvider {
  readonly kind = "snapshot";
  readonly name: string;
  readonly #sources: ResourceSource<GameServer>[];
  readonly #config: AgonesDiscoveryConfig;
  #snapshot: readonly Backend[] = Object.freeze([]);

  /** Opens the watches through `open`. */
  constructor(name: string, config: AgonesDiscoveryConfig, open: SourceFactory) {
    this.name = name;
    this.#config = config;
    const onChange = () => this.#rebuild();
    const labelSelector = config.selector.labelText;
    this.#sources = collectionPaths("/apis/agones.dev/v1", "gameservers", config.namespaces)
      .map((path) => open<GameServer>({ path, labelSelector, onChange }));
  }

  /** The backends known now (frozen; replaced, never mutated). */
  snapshot(): readonly Backend[] {
    return this.#snapshot;
  }

  /** Whether every namespace has been listed once. */
  ready(): boolean {
    return this.#sources.every((s) => s.synced);
  }

  /** Watch restarts over every namespace. */
  watchRestarts(): number {
    return this.#sources.reduce((sum, s) => sum + s.restarts, 0);
  }

  /** Stops every watch. */
  close(): void {
    for (const source of this.#sources) source.close();
  }

  #rebuild(): void {
    const config = this.#config;
    this.#snapshot = Object.freeze(
      this.#sources.flatMap((s) => s.items().flatMap((gs) => gameServerBackend(gs, config) ?? [])),
    );
  }
}
