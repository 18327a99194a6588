import { basename, dirname } from "node:path";

/** How long the file must stay quiet before a change is acted on. */
export const WATCH_DEBOUNCE_MS = 250;

/** A running file watch; `close` stops it (idempotent). */
export interface FileWatch {
  /** Stops watching and cancels a pending notification. */
  close(): void;
}

/** What `watchConfigFile` needs besides the path (injectable for tests). */
export interface WatchOptions {
  /** Quiet time before `onChange`; default {@link WATCH_DEBOUNCE_MS}. */
  readonly debounceMs?: number;
  /** Opens a non-recursive watch on a directory; default `Deno.watchFs`. */
  readonly watchFs?: (dir: string) => AsyncIterable<Deno.FsEvent> & { close(): void };
}

/**
 * Calls `onChange` once the config file at `path` has changed and then stayed quiet for
 * `debounceMs`. Watches the file's directory, not the file: editors save by writing a new file
 * and renaming it over the old one, and a Kubernetes ConfigMap volume swaps a `..data` symlink
 * to a new timestamped directory, and a watch on the file itself would follow the replaced inode
 * and go silent. Events naming the file, or a `..`-prefixed ConfigMap entry, count; others in
 * the directory are ignored. Callers compare contents: an event does not mean a new config.
 */
export function watchConfigFile(
  path: string,
  onChange: () => void,
  options: WatchOptions = {},
): FileWatch {
  const name = basename(path);
  const debounceMs = options.debounceMs ?? WATCH_DEBOUNCE_MS;
  const watcher = (options.watchFs ?? ((dir) => Deno.watchFs(dir, { recursive: false })))(
    dirname(path),
  );
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  (async () => {
    try {
      for await (const event of watcher) {
        if (closed || !event.paths.some((p) => concernsConfig(p, name))) continue;
        clearTimeout(timer);
        timer = setTimeout(onChange, debounceMs);
      }
    } catch {
      // The watcher ends with an error once closed; nothing is lost then.
    }
  })();
  return {
    close() {
      if (closed) return;
      closed = true;
      clearTimeout(timer);
      watcher.close();
    },
  };
}

/**
 * Whether a watch event on `eventPath` may have changed the config file named `configName`: the
 * file itself, or a `..`-prefixed entry of a ConfigMap volume (`..data`, `..2026_01_…`).
 */
export function concernsConfig(eventPath: string, configName: string): boolean {
  const entry = basename(eventPath);
  return entry === configName || entry.startsWith("..");
}
