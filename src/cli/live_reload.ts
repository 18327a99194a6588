import { type Config, ConfigErrors, loadConfig } from "../config/mod.ts";
import type { Logger } from "../observability/mod.ts";
import { logReloadResult, type ReloadResult } from "../server/mod.ts";
import { type FileWatch, watchConfigFile, type WatchOptions } from "./config_watch.ts";

/** The part of the server live reload drives. */
export interface Reloadable {
  /** Applies `config` or refuses it (`GatehouseServer.reload`). */
  reload(config: Config): Promise<ReloadResult>;
}

/** What `LiveReload` needs besides the server. */
export interface LiveReloadOptions {
  /** The config file, as given on the command line. */
  readonly path: string;
  /** Gets the errors of configs that do not load (the server logs its own results). */
  readonly logger: Logger;
  /** The text the running config was parsed from (so an unchanged file is not reloaded). */
  readonly loadedText: string | null;
  /** Called after every reload attempt, failed ones included (metrics). */
  readonly onReload?: (result: ReloadResult) => void;
  /** Watch settings; `false` reloads on SIGHUP only. */
  readonly watch?: WatchOptions | false;
}

/**
 * Reloads the config file when it changes (debounced) and on request (SIGHUP), one attempt at
 * a time. The file is loaded and validated exactly as `check` does; every error is logged with
 * its `file:line:col`, and the server keeps its config unless the new one loads completely.
 */
export class LiveReload {
  readonly #server: Reloadable;
  readonly #options: LiveReloadOptions;
  readonly #watch: FileWatch | null;
  #lastText: string | null;
  #queue: Promise<unknown> = Promise.resolve();

  /** Starts watching at once (unless `options.watch` is `false`). */
  constructor(server: Reloadable, options: LiveReloadOptions) {
    this.#server = server;
    this.#options = options;
    this.#lastText = options.loadedText;
    this.#watch = options.watch === false ? null : this.#startWatch(options.path, options.watch);
    // The file may have changed between the first load and the watch's start.
    if (this.#watch) void this.reload(false);
  }

  /** Watches the file; a watch that cannot start (no read grant on the directory, inotify
   * limits) leaves reload on SIGHUP only, with a warning, instead of failing the router. */
  #startWatch(path: string, watch: WatchOptions | undefined): FileWatch | null {
    try {
      return watchConfigFile(path, () => void this.reload(false), watch);
    } catch (err) {
      this.#options.logger.warn("cannot watch the config file; reloading on SIGHUP only", {
        config: path,
        error: err instanceof Error ? err.message : String(err),
      });
      return null;
    }
  }

  /**
   * Loads the file and hands it to the server. Without `force`, a file whose text is the one
   * last attempted is skipped (resolves `null`): watch events do not always mean new content.
   */
  reload(force: boolean): Promise<ReloadResult | null> {
    const next = this.#queue.then(() => this.#attempt(force));
    this.#queue = next.catch(() => {});
    return next;
  }

  /** Stops watching and waits for an attempt under way. */
  async close(): Promise<void> {
    this.#watch?.close();
    await this.#queue;
  }

  async #attempt(force: boolean): Promise<ReloadResult | null> {
    const { path, logger, onReload } = this.#options;
    let text: string | null = null;
    // Only the config's own text: loadConfig also reads the admin token file (a secret).
    const recording = {
      readTextFile: async (p: string) => {
        const read = await Deno.readTextFile(p);
        if (p === path) text = read;
        return read;
      },
    };
    let config: Config | null = null;
    let errors: string[] = [];
    try {
      config = await loadConfig(path, recording);
    } catch (err) {
      errors = err instanceof ConfigErrors
        ? err.errors.map((e) => e.message)
        : [`${path}: ${err instanceof Error ? err.message : String(err)}`];
    }
    if (!force && text !== null && text === this.#lastText) {
      logger.debug("config file unchanged; not reloaded", { config: path });
      return null;
    }
    this.#lastText = text;
    let result: ReloadResult;
    if (config) {
      result = await this.#server.reload(config);
    } else {
      result = { ok: false, source: path, errors };
      logReloadResult(logger, result);
    }
    onReload?.(result);
    return result;
  }
}
