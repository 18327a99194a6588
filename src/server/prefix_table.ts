/**
 * What admission remembers per client prefix: open connections, connections still in their
 * handshake, and a handshake token bucket.
 *
 * Bounded memory, and why busy prefixes are never evicted: an entry with connections holds the
 * count `max_connections_per_ip` is checked against. Forgetting it would let that prefix start
 * again from zero while its connections stay open (exceeding its limit), and their later
 * releases would have nothing to decrement. So the table has two parts:
 *
 * - **busy** entries (at least one open or pending connection): never evicted. There is one per
 *   prefix with a connection, so they are bounded by the connections — at most
 *   `limits.max_connections` (10,000 by default) open plus the pending-handshake cap
 *   (`admission.ts`).
 * - **idle** entries (no connection; only a token bucket): kept in least-recently-seen order and
 *   capped (`maxIdle`, 65,536 by default); a new prefix beyond the cap evicts the least recently
 *   seen idle one.
 *
 * The table therefore never holds more than `maxIdle` + busy entries (~16 MB at the defaults;
 * measured ~210 bytes per entry), however many prefixes a flood uses. With `max_connections: 0`
 * the busy part is bounded by the open connections themselves, each of which costs far more
 * than its entry. What eviction loses is a bucket's level: an evicted prefix that returns starts
 * with a full bucket. A bucket that has refilled is the same as a new one, so nothing is lost
 * unless more than `maxIdle` other prefixes arrived within one refill time (`burst /
 * per_second`, 2 s at the defaults: more than 32,768 new prefixes per second). Such a flood
 * still meets the concurrency limits and `max_connections`.
 *
 * The least-recently-seen order is an intrusive doubly linked list through the idle entries, so
 * seeing a prefix again moves it without allocating, and eviction takes the list's head.
 *
 * @module
 */

/** A connection in its handshake, as the table keeps it: admission can evict it. */
export interface PendingSlot {
  /** Frees the slot and closes the connection. */
  evict(): void;
}

/** One prefix: its connections (open and in handshake) and its token bucket. */
export class PrefixEntry {
  /** Connections admitted (handshake completed) and not yet released. */
  open = 0;
  /**
   * Connections still in their handshake, oldest first (`admission.ts`); `null` when none has
   * been seen. Each counts as holding the entry, like an open one.
   */
  pending: Set<PendingSlot> | null = null;
  /** Open plus pending: the entry is busy (never evicted) while this is above zero. */
  held = 0;
  /** Handshake tokens left (fractional: refilled continuously). */
  tokens: number;
  /** When `tokens` was last refilled (ms, the admission clock). */
  stamp: number;
  /** Set when a regrouping merged this entry into another: releases go there. */
  forward: PrefixEntry | null = null;
  /** Neighbours in the idle list (older, newer); `null` at its ends and while busy. */
  older: PrefixEntry | null = null;
  newer: PrefixEntry | null = null;

  /** A prefix first seen at `stamp` with a full bucket of `tokens`. */
  constructor(readonly key: string, tokens: number, stamp: number) {
    this.tokens = tokens;
    this.stamp = stamp;
  }

  /** The entry this one was merged into by regroupings, or itself. */
  get current(): PrefixEntry {
    return this.forward === null ? this : this.forward.current;
  }
}

/** See the module comment. */
export class PrefixTable {
  #entries = new Map<string, PrefixEntry>();
  /** Least and most recently seen idle entries. */
  #oldest: PrefixEntry | null = null;
  #newest: PrefixEntry | null = null;
  #idle = 0;

  /** Keeps at most `maxIdle` (≥ 1) prefixes without open connections. */
  constructor(readonly maxIdle: number) {
    if (!(maxIdle >= 1)) throw new RangeError(`maxIdle must be at least 1, got ${maxIdle}`);
  }

  /** Prefixes remembered, busy and idle. */
  get size(): number {
    return this.#entries.size;
  }

  /** Prefixes remembered that have no open connection. */
  get idle(): number {
    return this.#idle;
  }

  /** The entry of `key`, if remembered (does not count as seeing it). */
  lookup(key: string): PrefixEntry | undefined {
    return this.#entries.get(key);
  }

  /**
   * The entry of `key`, marked most recently seen; a new one (bucket `tokens`, time `now`) when
   * the prefix is not remembered, evicting the least recently seen idle prefix over the cap.
   */
  see(key: string, tokens: number, now: number): PrefixEntry {
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      entry = new PrefixEntry(key, tokens, now);
      this.#entries.set(key, entry);
      this.#append(entry);
    } else if (entry.held === 0) {
      this.#unlink(entry);
      this.#append(entry);
    }
    return entry;
  }

  /** One more connection holds `entry` (from {@link see}); a busy entry leaves the idle list. */
  hold(entry: PrefixEntry): void {
    if (entry.held === 0) this.#unlink(entry);
    entry.held++;
  }

  /** A connection let go of `entry` (a {@link PrefixEntry.current}); idle again at zero. */
  unhold(entry: PrefixEntry): void {
    entry.held--;
    if (entry.held === 0) this.#append(entry);
  }

  /**
   * Re-keys the table (a reload changed a prefix length): every busy entry is merged into the
   * entry of `keyOf(its key)` — counts add up, pending sets join, the lower bucket level wins —
   * and forwards its later releases there; idle entries are dropped (their prefixes start with
   * full buckets).
   */
  regroup(keyOf: (key: string) => string): void {
    const next = new Map<string, PrefixEntry>();
    for (const entry of this.#entries.values()) {
      if (entry.held === 0) continue;
      const key = keyOf(entry.key);
      let target = next.get(key);
      if (target === undefined) {
        target = new PrefixEntry(key, entry.tokens, entry.stamp);
        next.set(key, target);
      }
      target.open += entry.open;
      target.held += entry.held;
      if (entry.pending !== null) {
        target.pending ??= new Set();
        for (const pending of entry.pending) target.pending.add(pending);
      }
      target.tokens = Math.min(target.tokens, entry.tokens);
      entry.open = entry.held = 0;
      entry.pending = null;
      entry.forward = target;
    }
    this.#entries = next;
    this.#oldest = this.#newest = null;
    this.#idle = 0;
  }

  #append(entry: PrefixEntry): void {
    entry.older = this.#newest;
    entry.newer = null;
    if (this.#newest) this.#newest.newer = entry;
    else this.#oldest = entry;
    this.#newest = entry;
    if (++this.#idle > this.maxIdle) this.#evictOldest();
  }

  #unlink(entry: PrefixEntry): void {
    if (entry.older) entry.older.newer = entry.newer;
    else this.#oldest = entry.newer;
    if (entry.newer) entry.newer.older = entry.older;
    else this.#newest = entry.older;
    entry.older = entry.newer = null;
    this.#idle--;
  }

  #evictOldest(): void {
    const oldest = this.#oldest;
    if (oldest === null) return;
    this.#unlink(oldest);
    this.#entries.delete(oldest.key);
  }
}
