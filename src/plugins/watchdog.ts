/**
 * The one place plugin deadlines are kept: a {@link Watchdog} runs callbacks at given times from
 * a single timer queue.
 *
 * Who arms what:
 *
 * - the plugin chain arms a backstop per call (a transport that never settles still fails);
 * - the gRPC client arms each call's deadline;
 * - the WASM host arms each call's deadline, then per worker the *stop* alarm (raise the
 *   instance's deadline flag, which the checks the rewriter injected turn into a trap) and the
 *   *abandon* alarm (a worker still silent a grace period later is given up and replaced).
 *
 * Inside a worker, deadlines travel as data (the call channel carries each request's deadline in
 * `wallNow` time, see `wasm/wasi.ts`, and WASI's `poll_oneoff` never sleeps past it); no worker
 * keeps a timer.
 *
 * Why one queue instead of a `setTimeout` per deadline: a timer per call costs a `setTimeout` and
 * a `clearTimeout` (Deno's Node-compatible timers allocate a `Timeout` object each), a visible
 * share of a fast plugin call. Here an alarm is an entry in a binary heap; clearing one only marks
 * it, and the single timer — armed for the earliest entry — skips marked ones when it fires. While
 * calls keep coming it fires about once per timeout instead of being set and cleared per call.
 */

import { MAX_TIMER_MS } from "../timing/mod.ts";

/** One armed alarm; `clear` it when what it guards ends first. Clearing twice is harmless. */
export interface Alarm {
  clear(): void;
}

/** Time and timers of a {@link Watchdog}; tests inject a manual one. */
export interface WatchdogClock {
  /** Now, in the unit and origin of the times given to {@link Watchdog.armAt}. */
  now(): number;
  /** Calls `fn` once after about `ms`; returns a handle for `clearTimer`. */
  setTimer(fn: () => void, ms: number): unknown;
  /** Cancels a pending `setTimer`. */
  clearTimer(handle: unknown): void;
}

/** The platform's timers, with `now` as the clock (default: `performance.now`). */
export function timerClock(now: () => number = () => performance.now()): WatchdogClock {
  return {
    now,
    setTimer: (fn, ms) => setTimeout(fn, ms),
    clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  };
}

interface Entry {
  readonly at: number;
  /** Arming order: equal times fire in the order they were armed. */
  readonly order: number;
  readonly onFire: () => void;
  cleared: boolean;
}

/** Runs each armed callback at its time unless cleared first. See the module comment. */
export class Watchdog {
  readonly #clock: WatchdogClock;
  readonly #heap: Entry[] = [];
  #armed = 0;
  #cleared = 0;
  #timer: unknown = null;
  #timerAt = Infinity;
  #closed = false;

  /** `clock` defaults to `performance.now` and the platform's timers. */
  constructor(clock: WatchdogClock = timerClock()) {
    this.#clock = clock;
  }

  /** The watchdog's clock (for computing times to pass to {@link armAt}). */
  now(): number {
    return this.#clock.now();
  }

  /** Runs `onFire` once `ms` have passed, unless cleared before. */
  arm(ms: number, onFire: () => void): Alarm {
    return this.armAt(this.#clock.now() + ms, onFire);
  }

  /** Runs `onFire` at time `at` (on the watchdog's clock), unless cleared before. */
  armAt(at: number, onFire: () => void): Alarm {
    const entry: Entry = { at, order: this.#armed++, onFire, cleared: this.#closed };
    if (this.#closed) return { clear: () => {} };
    this.#push(entry);
    if (at < this.#timerAt) this.#startTimer(at);
    return {
      clear: () => {
        if (entry.cleared) return;
        entry.cleared = true;
        this.#cleared++;
        this.#dropCleared();
      },
    };
  }

  /** Alarms armed and neither fired nor cleared. */
  get pending(): number {
    return this.#heap.length - this.#cleared;
  }

  /** Stops the timer; alarms pending or armed afterwards never fire. */
  close(): void {
    this.#closed = true;
    for (const entry of this.#heap) entry.cleared = true;
    this.#heap.length = 0;
    this.#cleared = 0;
    this.#stopTimer();
  }

  // Cleared alarms at the top leave at once, and the heap is rebuilt when they make up most of
  // it. The timer stays armed (stopping it would cost what it saves); fired with nothing due,
  // it re-arms for the next live alarm, or not at all, so a quiet watchdog holds no timer.
  #dropCleared(): void {
    while (this.#heap[0]?.cleared) this.#pop();
    if (this.#cleared > 1024 && this.#cleared * 2 > this.#heap.length) {
      const live = this.#heap.filter((e) => !e.cleared);
      this.#heap.length = 0;
      this.#cleared = 0;
      for (const entry of live) this.#push(entry);
    }
  }

  #fire(): void {
    this.#timer = null;
    this.#timerAt = Infinity;
    const now = this.#clock.now();
    // Re-read the top each turn: a callback may arm or clear alarms.
    for (let top = this.#heap[0]; top !== undefined; top = this.#heap[0]) {
      if (!top.cleared && top.at > now) break;
      this.#pop();
      if (top.cleared) continue;
      top.cleared = true;
      try {
        top.onFire();
      } catch (e) {
        // A callback's bug must not stop every other deadline, nor the router.
        console.error("watchdog: an alarm callback threw", e);
      }
    }
    const next = this.#heap[0];
    if (next !== undefined && !this.#closed) this.#startTimer(next.at);
  }

  #startTimer(at: number): void {
    this.#stopTimer();
    this.#timerAt = at;
    // Platform timers take at most 2^31-1 ms (a longer delay fires after 1 ms); a later alarm
    // finds nothing due then and re-arms for what is left.
    const ms = Math.min(MAX_TIMER_MS, Math.max(0, Math.ceil(at - this.#clock.now())));
    this.#timer = this.#clock.setTimer(() => this.#fire(), ms);
  }

  #stopTimer(): void {
    if (this.#timer !== null) this.#clock.clearTimer(this.#timer);
    this.#timer = null;
    this.#timerAt = Infinity;
  }

  // ---- binary min-heap on (at, order) ----

  #push(entry: Entry): void {
    const heap = this.#heap;
    let i = heap.push(entry) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(entry, heap[parent]!)) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = entry;
  }

  #pop(): void {
    const heap = this.#heap;
    const top = heap[0]!;
    if (top.cleared) this.#cleared--;
    const last = heap.pop()!;
    if (heap.length === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && before(heap[right]!, heap[left]!) ? right : left;
      if (!before(heap[child]!, last)) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
  }
}

function before(a: Entry, b: Entry): boolean {
  return a.at < b.at || (a.at === b.at && a.order < b.order);
}
