import type { Logger } from "../../observability/mod.ts";
import { Backoff, type BackoffOptions as TimingBackoff } from "../../timing/mod.ts";
import { KubeApiError, type KubeClient } from "./client.ts";
import type { ObjectMeta } from "./objects.ts";

/** Any API object: only `metadata` is read here. */
export interface KubeObject {
  /** Name, namespace and resourceVersion key the object. */
  readonly metadata?: ObjectMeta;
}

/**
 * Retry delays: full jitter over `initialMs · 2^(n-1)`, capped at `maxMs` — `initialMs` is the
 * first retry's ceiling (default 500 ms), `maxMs` the largest (default 30 s). The growth and the
 * jitter are the informer's own: spreading a fleet's retries over the whole interval is what
 * keeps replicas from hitting the API server together after it comes back.
 */
export type BackoffOptions = Pick<TimingBackoff, "initialMs" | "maxMs">;

/** What an {@link Informer} watches and how it reports. */
export interface InformerOptions {
  /** The calls used: `get` for LIST, `watch` for WATCH. */
  readonly client: Pick<KubeClient, "get" | "watch">;
  /** Collection path, e.g. `/api/v1/namespaces/hytale/pods`. */
  readonly path: string;
  /** A Kubernetes label selector sent to the API, or `undefined`. */
  readonly labelSelector?: string | undefined;
  /** A field selector sent to the API (`metadata.name=X` for one object), or `undefined`. */
  readonly fieldSelector?: string | undefined;
  /** LIST page size (`limit`; default 500). */
  readonly pageSize?: number;
  /** WATCH `timeoutSeconds` (default 300); the watch is then resumed. */
  readonly watchTimeoutSeconds?: number;
  /** Retry delays after errors. */
  readonly backoff?: BackoffOptions;
  /** Where errors and restarts are logged. */
  readonly logger: Logger;
  /** What the log lines call the watched thing (default `discovery`: `discovery API error`). */
  readonly subject?: string;
  /** Called after each applied batch (a whole LIST, or the events of one read); may not throw. */
  readonly onChange: () => void;
  /** Aborting stops the informer and everything it has in flight. */
  readonly signal: AbortSignal;
  /** `[0, 1)` randomness for jitter (default `Math.random`). */
  readonly random?: () => number;
  /** Waits `ms` or until `signal` aborts (default a timer). */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Milliseconds clock, to tell a watch that ends at once from one that ran (default `Date.now`). */
  readonly now?: () => number;
}

const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 30_000 };
/** A watch that ends sooner than this without any event counts as a failure (backoff). */
const QUIET_WATCH_MS = 1_000;

class Gone extends Error {}

/**
 * Keeps an in-memory copy of one resource collection: LIST (paged), then WATCH from the list's
 * resourceVersion; re-LIST on `410 Gone`, re-WATCH from the last resourceVersion when a watch
 * ends, and retry with backoff on errors while the last good state keeps serving. `run()`
 * never rejects.
 */
export class Informer<T extends KubeObject = KubeObject> {
  readonly #o: InformerOptions;
  readonly #backoff: Backoff;
  readonly #sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly #now: () => number;
  #items = new Map<string, T>();
  #rv: string | null = null;
  #synced = false;
  #restarts = 0;
  #relists = 0;
  /** 410s since the last event applied: a second in a row backs off instead of looping. */
  #goneInARow = 0;
  #running: Promise<void> | null = null;
  #lastError: Error | null = null;

  /** Takes the options; nothing happens until `run()`. */
  constructor(options: InformerOptions) {
    this.#o = options;
    const { initialMs, maxMs } = options.backoff ?? DEFAULT_BACKOFF;
    this.#backoff = new Backoff({ initialMs, maxMs, jitter: "full" }, options.random);
    this.#sleep = options.sleep ?? abortableSleep;
    this.#now = options.now ?? Date.now;
  }

  /** Whether the first LIST has completed. */
  get synced(): boolean {
    return this.#synced;
  }
  /** Watches started again after the first (resumed, or after a re-LIST). */
  get restarts(): number {
    return this.#restarts;
  }
  /** LISTs after the first (on `410 Gone`). */
  get relists(): number {
    return this.#relists;
  }
  /** The last error met, or `null`; kept after recovery for diagnostics. */
  get lastError(): Error | null {
    return this.#lastError;
  }
  /** The resourceVersion the next watch starts from, or `null` before a LIST. */
  get resourceVersion(): string | null {
    return this.#rv;
  }
  /** The current objects (the last good state while the API fails). */
  items(): T[] {
    return [...this.#items.values()];
  }

  /** Runs until the signal aborts; resolves then, never rejects. Calling it again joins the run. */
  run(): Promise<void> {
    this.#running ??= this.#loop();
    return this.#running;
  }

  async #loop(): Promise<void> {
    const { signal } = this.#o;
    let watched = false;
    while (!signal.aborted) {
      try {
        if (this.#rv === null) await this.#list();
        if (watched) this.#restarts++;
        watched = true;
        await this.#watchOnce();
      } catch (err) {
        if (signal.aborted) break;
        if (err instanceof Gone) await this.#expired();
        else await this.#fail(err);
      }
    }
  }

  /** 410 Gone: LIST again — at once the first time, with backoff if it repeats without events. */
  async #expired(): Promise<void> {
    const { path, logger } = this.#o;
    this.#rv = null;
    this.#relists++;
    this.#goneInARow++;
    if (this.#goneInARow === 1) {
      logger.info("watch expired, listing again", { path });
      return;
    }
    await this.#fail(
      new KubeApiError("status", path, 410, `watch ${path}: expired again right after a LIST`),
    );
  }

  async #fail(err: unknown): Promise<void> {
    const error = err instanceof Error ? err : new Error(String(err));
    this.#lastError = error;
    const delay = Math.floor(this.#backoff.fail());
    this.#o.logger.warn(`${this.#o.subject ?? "discovery"} API error, retrying`, {
      path: this.#o.path,
      error: error.message,
      attempt: this.#backoff.failures,
      retry_ms: delay,
    });
    await this.#sleep(delay, this.#o.signal);
  }

  async #list(): Promise<void> {
    const { client, path, signal } = this.#o;
    const fresh = new Map<string, T>();
    let cont: string | undefined;
    let rv = "";
    do {
      const query = {
        limit: this.#o.pageSize ?? 500,
        continue: cont,
        labelSelector: this.#o.labelSelector,
        fieldSelector: this.#o.fieldSelector,
      };
      const page = listPage<T>(await client.get(path, query, signal), path);
      for (const item of page.items) fresh.set(keyOf(item), item);
      rv = page.resourceVersion;
      cont = page.continue;
    } while (cont !== undefined);
    this.#items = fresh;
    this.#rv = rv;
    this.#synced = true;
    // A LIST that keeps being followed by 410 is not a recovery: keep the backoff growing.
    if (this.#goneInARow === 0) this.#backoff.reset();
    this.#notify();
  }

  /** One watch until the stream ends; throws `Gone` on 410, other errors as they are. */
  async #watchOnce(): Promise<void> {
    const { client, path, signal } = this.#o;
    const query = {
      resourceVersion: this.#rv ?? "",
      allowWatchBookmarks: true,
      timeoutSeconds: this.#o.watchTimeoutSeconds ?? 300,
      labelSelector: this.#o.labelSelector,
      fieldSelector: this.#o.fieldSelector,
    };
    const started = this.#now();
    let stream: ReadableStream<Uint8Array>;
    try {
      stream = await client.watch(path, query, signal);
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 410) throw new Gone();
      throw err;
    }
    const events = await this.#consume(stream);
    if (events === 0 && this.#now() - started < QUIET_WATCH_MS) {
      throw new KubeApiError("network", path, null, `watch ${path}: ended at once`);
    }
    this.#o.logger.debug("watch ended, resuming", { path, resource_version: this.#rv ?? "" });
  }

  /** Reads events until the stream ends; returns how many were read. */
  async #consume(stream: ReadableStream<Uint8Array>): Promise<number> {
    const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
    // Aborting the fetch does not always end a read already waiting on the piped body (seen on
    // Deno 2.9.6: a stop then waited for the watch's own timeout); cancelling the reader does.
    const { signal } = this.#o;
    const stop = () => void reader.cancel().catch(() => {});
    signal.addEventListener("abort", stop, { once: true });
    let pending = "";
    let events = 0;
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return events;
        pending += value;
        const lines = pending.split("\n");
        pending = lines.pop() ?? "";
        let changed = false;
        for (const line of lines) {
          if (line.trim() === "") continue;
          changed = this.#apply(parseEvent(line, this.#o.path)) || changed;
          events++;
          this.#backoff.reset();
          this.#goneInARow = 0;
        }
        if (changed) this.#notify();
      }
    } finally {
      signal.removeEventListener("abort", stop);
      await reader.cancel().catch(() => {});
    }
  }

  /** Applies one event; returns whether the items changed. */
  #apply(event: WatchEvent): boolean {
    const rv = event.object.metadata?.resourceVersion;
    switch (event.type) {
      case "ERROR": {
        const code = Number((event.object as { code?: unknown }).code);
        if (code === 410) throw new Gone();
        const message = String((event.object as { message?: unknown }).message ?? "");
        throw new KubeApiError(
          "status",
          this.#o.path,
          code,
          `watch ${this.#o.path}: ERROR ${code} ${message}`,
        );
      }
      case "BOOKMARK":
        if (rv !== undefined) this.#rv = rv;
        return false;
      case "ADDED":
      case "MODIFIED":
        this.#items.set(keyOf(event.object), event.object as T);
        break;
      case "DELETED":
        this.#items.delete(keyOf(event.object));
        break;
    }
    if (rv !== undefined) this.#rv = rv;
    return true;
  }

  #notify(): void {
    try {
      this.#o.onChange();
    } catch (err) {
      this.#o.logger.error(`${this.#o.subject ?? "discovery"} onChange failed`, {
        path: this.#o.path,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }
}

interface WatchEvent {
  readonly type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  readonly object: KubeObject;
}

const EVENT_TYPES = new Set(["ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"]);

function parseEvent(line: string, path: string): WatchEvent {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    throw new KubeApiError("parse", path, null, `watch ${path}: event is not JSON`);
  }
  const e = v as { type?: unknown; object?: unknown };
  if (
    typeof v !== "object" || v === null || !EVENT_TYPES.has(String(e.type)) ||
    typeof e.object !== "object" || e.object === null
  ) {
    throw new KubeApiError("parse", path, null, `watch ${path}: not a watch event`);
  }
  return v as WatchEvent;
}

function listPage<T>(
  body: unknown,
  path: string,
): { items: T[]; resourceVersion: string; continue: string | undefined } {
  const b = body as {
    items?: unknown;
    metadata?: { resourceVersion?: unknown; continue?: unknown };
  };
  const rv = b?.metadata?.resourceVersion;
  if (
    typeof body !== "object" || body === null || !Array.isArray(b.items) ||
    typeof rv !== "string" || rv === ""
  ) {
    throw new KubeApiError("parse", path, null, `list ${path}: not a list with a resourceVersion`);
  }
  const cont = b.metadata?.continue;
  return {
    items: b.items as T[],
    resourceVersion: rv,
    continue: typeof cont === "string" && cont !== "" ? cont : undefined,
  };
}

/** `namespace/name`, or `name` for cluster-scoped objects. */
function keyOf(obj: KubeObject): string {
  const ns = obj.metadata?.namespace;
  const name = obj.metadata?.name ?? "";
  return ns === undefined || ns === "" ? name : `${ns}/${name}`;
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
