/**
 * The deadlines of one plugin's calls (the gRPC client's, the chain's guards), kept by one timer
 * instead of one `setTimeout` per call.
 *
 * A timer per call costs a `setTimeout` and a `clearTimeout` (Deno's Node-compatible timers
 * allocate a `Timeout` object each), a visible share of a call's CPU. Calls of one plugin
 * nearly always share a timeout, so their deadlines arrive in order and a queue ordered by
 * deadline only ever appends. A settled call just marks its entry; the one timer, armed for
 * the earliest entry, skips marked ones when it fires and re-arms for the next live one. While
 * calls keep coming, the timer fires about once per timeout instead of being set and cleared
 * per call. Timing is the wall clock's, as `setTimeout`'s was.
 */

/** A deadline in the queue; `cancel` when the call settles first. */
export interface Deadline {
  cancel(): void;
}

interface Entry {
  readonly at: number;
  readonly onExpired: () => void;
  cancelled: boolean;
}

/** Runs each callback at its deadline unless cancelled first. */
export class Deadlines {
  // Ordered by `at`; entries before `#head` are gone (compacted now and then).
  #queue: Entry[] = [];
  #head = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #armedFor = Infinity;
  #closed = false;

  /** Runs `onExpired` once `timeoutMs` have passed, unless cancelled before. */
  add(timeoutMs: number, onExpired: () => void): Deadline {
    const entry: Entry = { at: performance.now() + timeoutMs, onExpired, cancelled: false };
    this.#insert(entry);
    if (entry.at < this.#armedFor) this.#arm(entry.at);
    return {
      cancel: () => {
        entry.cancelled = true;
        this.#dropCancelledHead();
      },
    };
  }

  /** Stops the timer; deadlines added or pending afterwards never fire. */
  close(): void {
    this.#closed = true;
    this.#queue = [];
    this.#head = 0;
    this.#disarm();
  }

  // Appends, or (a call with a shorter timeout than earlier ones) inserts in order.
  #insert(entry: Entry): void {
    const q = this.#queue;
    let i = q.length;
    while (i > this.#head && q[i - 1]!.at > entry.at) i--;
    if (i === q.length) q.push(entry);
    else q.splice(i, 0, entry);
  }

  // Settled calls at the front leave at once. The timer stays armed (clearing it would cost what
  // it saves); fired with nothing left, it is not re-armed, so a quiet plugin has no timer.
  #dropCancelledHead(): void {
    const q = this.#queue;
    while (this.#head < q.length && q[this.#head]!.cancelled) this.#head++;
    if (this.#head === q.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > q.length) {
      this.#queue = q.slice(this.#head);
      this.#head = 0;
    }
  }

  #arm(at: number): void {
    if (this.#closed) return;
    this.#disarm();
    this.#armedFor = at;
    this.#timer = setTimeout(() => this.#fire(), Math.max(0, Math.ceil(at - performance.now())));
  }

  #disarm(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#armedFor = Infinity;
  }

  #fire(): void {
    this.#timer = null;
    this.#armedFor = Infinity;
    const now = performance.now();
    // Re-read the queue each turn: a callback settles its call, which cancels and may compact.
    while (this.#head < this.#queue.length) {
      const entry = this.#queue[this.#head]!;
      if (!entry.cancelled && entry.at > now) break;
      this.#head++;
      if (!entry.cancelled) {
        entry.cancelled = true;
        entry.onExpired();
      }
    }
    this.#dropCancelledHead();
    const next = this.#queue[this.#head];
    if (next !== undefined) this.#arm(next.at);
  }
}
