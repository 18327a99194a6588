import type { Logger } from "../observability/mod.ts";
import { backoffDelay } from "../timing/mod.ts";
import { StateError } from "./errors.ts";
import {
  type ConsoleState,
  decodeState,
  EMPTY_STATE,
  encodeState,
  MAX_STATE_BYTES,
} from "./state.ts";
import type { StateStore } from "./store.ts";

/**
 * The pause after the n-th busy lock, on top of {@link LOCK_POLL_MIN_MS}: uniform below
 * `5 ms · 2^(n-1)`, that ceiling at most 100 ms.
 */
const LOCK_BACKOFF = { initialMs: 5, maxMs: 100, jitter: "full" } as const;
/** The shortest pause between two tries of a held lock, ms. */
const LOCK_POLL_MIN_MS = 5;

/** Options of {@link FileStore}. */
export interface FileStoreOptions {
  /** Where problems with the file are logged. */
  readonly logger: Logger;
  /** How often the file is checked for other writers' changes (default 1 s). */
  readonly pollMs?: number;
  /** A lock file older than this is a crashed writer's and is removed (default 10 s). */
  readonly staleLockMs?: number;
  /** How long a save waits for another writer's lock (default 5 s). */
  readonly lockWaitMs?: number;
}

/**
 * The state in one JSON file (`admin.state_file`), for a single router or routers on one
 * host. A write goes to `<file>.tmp`, created exclusively — which makes it the lock other
 * writers wait for — then is synced and renamed over the file, so readers see the old or the
 * new state, never a half-written one. Other writers' changes are found by a bounded poll (the
 * file's inode, size and mtime; a rename replaces the inode, which a file watch would lose). A
 * file that is corrupt or over `MAX_STATE_BYTES` is logged and ignored, never fatal.
 *
 * Needs read and write on exactly the file and `<file>.tmp` (`cli/sandbox.ts` grants them).
 */
export class FileStore implements StateStore {
  readonly kind = "file";
  readonly shared = true;
  readonly where: string;
  readonly #path: string;
  readonly #tmp: string;
  readonly #o: FileStoreOptions;
  readonly #listeners = new Set<(state: ConsoleState) => void>();
  #lastText: string | null = null;
  #lastKey = "";
  #badKey = "";
  #timer: ReturnType<typeof setTimeout> | null = null;
  #closed = false;

  /** Nothing is read until {@link load}. */
  constructor(path: string, options: FileStoreOptions) {
    this.#path = path;
    this.#tmp = `${path}.tmp`;
    this.where = path;
    this.#o = options;
  }

  async load(): Promise<ConsoleState> {
    const read = await this.#read();
    return read ?? EMPTY_STATE;
  }

  async save(state: ConsoleState): Promise<void> {
    await this.update(() => state);
  }

  async update(change: (current: ConsoleState) => ConsoleState): Promise<ConsoleState> {
    const lock = await this.#lock();
    let renamed = false;
    try {
      const next = change((await this.#read()) ?? EMPTY_STATE);
      const text = encodeState(next);
      // Set before the rename: a poll running meanwhile must not report this write as news.
      const before = this.#lastText;
      this.#lastText = text;
      try {
        const bytes = new TextEncoder().encode(text);
        for (let at = 0; at < bytes.length;) at += await lock.write(bytes.subarray(at));
        await lock.sync();
        lock.close();
        await Deno.rename(this.#tmp, this.#path);
      } catch (err) {
        this.#lastText = before;
        throw new StateError("store", `${this.#path}: cannot write: ${message(err)}`);
      }
      renamed = true;
      this.#lastKey = await this.#key();
      return next;
    } finally {
      try {
        lock.close();
      } catch {
        // Closed already.
      }
      if (!renamed) await Deno.remove(this.#tmp).catch(() => {});
    }
  }

  watch(listener: (state: ConsoleState) => void): () => void {
    this.#listeners.add(listener);
    this.#schedule();
    return () => void this.#listeners.delete(listener);
  }

  close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#listeners.clear();
    return Promise.resolve();
  }

  /** `<file>.tmp` created exclusively; waits (bounded) while another writer holds it. */
  async #lock(): Promise<Deno.FsFile> {
    const deadline = performance.now() + (this.#o.lockWaitMs ?? 5_000);
    for (let attempt = 0;; attempt++) {
      try {
        return await Deno.open(this.#tmp, { write: true, createNew: true, mode: 0o600 });
      } catch (err) {
        if (!(err instanceof Deno.errors.AlreadyExists)) {
          throw new StateError("store", `${this.#tmp}: cannot create: ${message(err)}`);
        }
      }
      if (await this.#removeStaleLock()) continue;
      if (performance.now() > deadline) {
        throw new StateError("conflict", `${this.#tmp}: another writer holds the lock`);
      }
      const pause = LOCK_POLL_MIN_MS + backoffDelay(LOCK_BACKOFF, attempt + 1);
      await new Promise((r) => setTimeout(r, pause));
    }
  }

  async #removeStaleLock(): Promise<boolean> {
    try {
      const info = await Deno.stat(this.#tmp);
      const age = Date.now() - (info.mtime?.getTime() ?? Date.now());
      if (age < (this.#o.staleLockMs ?? 10_000)) return false;
      this.#o.logger.warn("removing a stale state lock", { file: this.#tmp, age_ms: age });
      await Deno.remove(this.#tmp);
      return true;
    } catch {
      return false; // released meanwhile: try again
    }
  }

  /** The stored state; `null` when there is none or it is unusable (logged once per version). */
  async #read(): Promise<ConsoleState | null> {
    let text: string;
    try {
      text = await readBounded(this.#path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return null;
      if (err instanceof StateError) return this.#unusable(err);
      throw new StateError("store", `${this.#path}: cannot read: ${message(err)}`);
    }
    try {
      const state = decodeState(text, this.#path);
      this.#lastText = text;
      return state;
    } catch (err) {
      if (err instanceof StateError) return this.#unusable(err);
      throw err;
    }
  }

  async #unusable(err: StateError): Promise<null> {
    const key = await this.#key();
    if (key !== this.#badKey) {
      this.#badKey = key;
      this.#o.logger.warn("ignoring the stored runtime state", { error: err.message });
    }
    return null;
  }

  #schedule(): void {
    if (this.#timer !== null || this.#closed) return;
    this.#timer = setTimeout(() => void this.#poll(), this.#o.pollMs ?? 1_000);
  }

  async #poll(): Promise<void> {
    try {
      const key = await this.#key();
      if (key === this.#lastKey) return;
      this.#lastKey = key;
      const before = this.#lastText;
      const state = await this.#read();
      if (state === null || this.#lastText === before || this.#closed) return;
      for (const listener of [...this.#listeners]) listener(state);
    } catch (err) {
      this.#o.logger.warn("cannot check the runtime state file", { error: message(err) });
    } finally {
      this.#timer = null;
      if (this.#listeners.size > 0) this.#schedule();
    }
  }

  /** Inode, size and mtime: any rename or write changes it. */
  async #key(): Promise<string> {
    try {
      const info = await Deno.stat(this.#path);
      return `${info.ino}:${info.size}:${info.mtime?.getTime()}`;
    } catch {
      return "none";
    }
  }
}

/**
 * The file's text, refusing (`too_large`) to read past {@link MAX_STATE_BYTES}, and (`corrupt`)
 * to open anything but a regular file: opening a FIFO waits for a writer, for ever.
 */
async function readBounded(path: string): Promise<string> {
  if (!(await Deno.stat(path)).isFile) {
    throw new StateError("corrupt", `${path}: not a regular file`);
  }
  using file = await Deno.open(path, { read: true });
  const buffer = new Uint8Array(MAX_STATE_BYTES + 1);
  let filled = 0;
  while (filled < buffer.length) {
    const n = await file.read(buffer.subarray(filled));
    if (n === null) break;
    filled += n;
  }
  if (filled > MAX_STATE_BYTES) {
    throw new StateError("too_large", `${path}: the state is over ${MAX_STATE_BYTES} bytes`);
  }
  return new TextDecoder().decode(buffer.subarray(0, filled));
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
