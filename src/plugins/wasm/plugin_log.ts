/**
 * The router-side log of one plugin: every line a plugin writes (stdout, stderr, `gatehouse.log`)
 * passes through one {@link PluginLog}, created once per plugin, so its rate limit holds across
 * instance restarts and worker restarts alike — a plugin that traps after each burst of lines
 * gets no fresh budget. (The spec set no number; the defaults, listed in docs/plugins.md §5.5,
 * keep the old per-instance cap of 1000 lines as the burst.)
 *
 * The text itself is the line's message; the logger's text format quotes and escapes it, so no
 * plugin output can forge a line or a field (see `formatText` in `observability/logger.ts`).
 *
 * It lives here, not in `plugins/`, although process plugins use it too: the WASM worker imports
 * it, and a worker may load only files under this folder — the read grant `start` gives the
 * router for worker code (`cli/launch.ts`; `tests/cli/sandbox_test.ts` checks the closure).
 */

import type { Logger, LogLevel } from "../../observability/mod.ts";

/** Lines a plugin may write at once (the old per-instance cap). */
export const DEFAULT_LOG_BURST = 1000;
/** Lines per second a plugin may write once its burst is spent. */
export const DEFAULT_LOG_LINES_PER_SECOND = 100;
/** At most one drop warning per this many ms (a suppression period). */
export const DEFAULT_DROP_WARNING_INTERVAL_MS = 1000;
/** Longest text kept of one line, in UTF-16 units (the WASI layer cuts lines at this too). */
export const MAX_LOG_TEXT = 4096;

/**
 * The plugin log ABI's levels by number (0 debug … 3 error: `gatehouse.log`, and the log frames of
 * a plugin's child process). The ABI's own table, not the logger's `LOG_LEVELS`: its numbers are
 * fixed by docs/plugins.md, and the observability barrel's values would pull npm code into the
 * permission-less child.
 */
export const PLUGIN_LOG_LEVELS = [
  "debug",
  "info",
  "warn",
  "error",
] as const satisfies readonly LogLevel[];

/** A level's number in the plugin log ABI ({@link PLUGIN_LOG_LEVELS}). */
export function pluginLogLevel(level: LogLevel): 0 | 1 | 2 | 3 {
  return PLUGIN_LOG_LEVELS.indexOf(level) as 0 | 1 | 2 | 3;
}

/** A token bucket on an external clock (ms): `burst` tokens, refilled at `perSecond`. */
export class TokenBucket {
  readonly #perMs: number;
  readonly #burst: number;
  #tokens: number;
  #at: number;

  /** Starts full at time `now`. */
  constructor(perSecond: number, burst: number, now: number) {
    if (!(perSecond >= 0) || !(burst >= 1) || !Number.isFinite(perSecond + burst)) {
      throw new RangeError(`token bucket needs rate >= 0 and burst >= 1 (${perSecond}, ${burst})`);
    }
    this.#perMs = perSecond / 1000;
    this.#burst = burst;
    this.#tokens = burst;
    this.#at = now;
  }

  /** Takes one token at time `now`; false when there is none. */
  take(now: number): boolean {
    // A clock that steps back refills nothing rather than draining the bucket.
    const elapsed = Math.max(0, now - this.#at);
    this.#tokens = Math.min(this.#burst, this.#tokens + elapsed * this.#perMs);
    this.#at = Math.max(now, this.#at);
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

/** Settings of a {@link PluginLog}; every field has a default. */
export interface PluginLogOptions {
  /** Sustained rate, lines per second (default {@link DEFAULT_LOG_LINES_PER_SECOND}). */
  readonly linesPerSecond?: number;
  /** Lines that may be written at once (default {@link DEFAULT_LOG_BURST}). */
  readonly burst?: number;
  /** Minimum ms between two drop warnings (default {@link DEFAULT_DROP_WARNING_INTERVAL_MS}). */
  readonly warnIntervalMs?: number;
  /** Monotonic clock in ms (default `performance.now`); injected by tests. */
  readonly now?: () => number;
}

/**
 * Rate-limited log of one plugin (see the module comment). Lines over the budget are dropped and
 * counted; a warning `plugin log lines dropped (rate limit)` with `dropped=N` (the lines dropped
 * since the previous such warning) is written at the first drop of a suppression period and at
 * most once per `warnIntervalMs`. Drops after the last warning are reported with the next line
 * the plugin writes once the interval has passed (there is no timer, so nothing to clean up).
 */
export class PluginLog {
  readonly #log: Logger;
  readonly #bucket: TokenBucket;
  readonly #warnIntervalMs: number;
  readonly #now: () => number;
  #dropped = 0;
  #warnedAt = -Infinity;

  /** `logger` is the plugin's own (already `.with({plugin: name})`). */
  constructor(logger: Logger, options: PluginLogOptions = {}) {
    this.#log = logger;
    this.#now = options.now ?? (() => performance.now());
    this.#warnIntervalMs = options.warnIntervalMs ?? DEFAULT_DROP_WARNING_INTERVAL_MS;
    this.#bucket = new TokenBucket(
      options.linesPerSecond ?? DEFAULT_LOG_LINES_PER_SECOND,
      options.burst ?? DEFAULT_LOG_BURST,
      this.#now(),
    );
  }

  /**
   * Writes one line of the plugin at `level` (0 debug … 3 error), tagged `source=` (`stdout`,
   * `stderr`, `plugin`, …), unless the plugin is over its rate. Lines below the logger's level
   * are skipped without spending budget.
   */
  write(level: 0 | 1 | 2 | 3, source: string, text: string): void {
    const name = PLUGIN_LOG_LEVELS[level] ?? "info";
    if (!this.#log.enabled(name)) return;
    const now = this.#now();
    if (!this.#bucket.take(now)) {
      this.#dropped++;
      this.#warnDropped(now);
      return;
    }
    // Reported before the line, so the warning comes in order with what it counts.
    this.#warnDropped(now);
    const kept = text.length > MAX_LOG_TEXT ? text.slice(0, MAX_LOG_TEXT) : text;
    this.#log[name](kept, { source });
  }

  #warnDropped(now: number): void {
    if (this.#dropped === 0 || now - this.#warnedAt < this.#warnIntervalMs) return;
    this.#log.warn("plugin log lines dropped (rate limit)", { dropped: this.#dropped });
    this.#dropped = 0;
    this.#warnedAt = now;
  }
}
