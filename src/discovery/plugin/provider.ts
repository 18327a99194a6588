/**
 * The `type: plugin` provider: backends a process plugin pushes with `set_targets`
 * (docs/plugins.md §7). It watches nothing itself; the plugin's transport is its feed, bound once
 * the plugin chain has loaded (the chain loads after discovery starts, and a plugin must be up to
 * push). Until the first push for its target set it is not synced: routing gets no backends (the
 * discovery_error message) and `/readyz` waits for it. When the plugin process exits, the last
 * list stays in use until the restarted process pushes again.
 *
 * @module
 */
import type { Backend } from "../../config/mod.ts";
import type { SnapshotProvider, TargetFeed } from "../provider.ts";

const NONE: readonly Backend[] = Object.freeze([]);

/** See the module comment. */
export class PushedProvider implements SnapshotProvider {
  readonly kind = "snapshot";
  #feed: TargetFeed | null = null;
  #unsubscribe: (() => void) | null = null;
  #closed = false;

  /**
   * Provider `name`, reading the target set `routeId` of process plugin `plugin`; `changed` is
   * called after every push to that plugin (readiness waiters re-check).
   */
  constructor(
    readonly name: string,
    readonly plugin: string,
    readonly routeId: string,
    private readonly changed: () => void,
  ) {}

  /** Starts reading `feed` (the plugin's transport); a later call replaces the feed. */
  bind(feed: TargetFeed): void {
    if (this.#closed) return;
    this.#unsubscribe?.();
    this.#feed = feed;
    this.#unsubscribe = feed.subscribe(this.changed);
    this.changed();
  }

  snapshot(): readonly Backend[] {
    return this.#feed?.targets(this.routeId) ?? NONE;
  }

  ready(): boolean {
    return this.#feed?.targets(this.routeId) != null;
  }

  /** Pushes received for this target set so far, and when the last arrived (for `/metrics`). */
  pushes(): { readonly count: number; readonly lastAtMs: number | null } {
    return this.#feed?.pushes(this.routeId) ?? { count: 0, lastAtMs: null };
  }

  watchRestarts(): number {
    return 0;
  }

  close(): void {
    this.#closed = true;
    this.#unsubscribe?.();
    this.#unsubscribe = null;
  }
}
