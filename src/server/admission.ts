/**
 * Admission: whether a new client connection may be served, decided from the config's `access`
 * lists and `limits` — `access_denied`, `rate_limit` (`limits.handshake_rate`, a token bucket per
 * client prefix), `per_ip_limit` (`limits.max_connections_per_ip`, concurrent connections per
 * prefix), `subnet_limit` (`limits.ipv6_subnet`, concurrent connections of the IPv6 clients in one
 * wider subnet, by default a /48) and `capacity` (`limits.max_connections`, all clients
 * together), checked in that order.
 *
 * A "client" is a prefix: `limits.ipv4_prefix` (default /32) or `limits.ipv6_prefix` (default
 * /64 — one IPv6 subscriber usually holds a whole /64, so counting per address would give it 2^64
 * budgets). An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, how the dual-stack `::` listener
 * reports an IPv4 client) is its IPv4 address, for the limits and for `access` alike.
 *
 * Two steps, because an address is only proven once the handshake completes (the client has
 * then received the server's flight there; Deno offers no QUIC Retry to prove it earlier):
 *
 * 1. {@link Admission.arrive}, at 0.5-RTT — as soon as the server can read the address without
 *    refusing the attempt (on Deno 2.9.6 reading a `QuicIncoming`'s address consumes it;
 *    `quic_accept.ts` has the details and what a refusal costs). It refuses on `access`, on an
 *    empty bucket, a full prefix or a full router, but changes no count a spoofer could use
 *    against the address's owner. The connection becomes *pending*.
 * 2. {@link Pending.validate}, when the handshake completes: the checks again, and now the
 *    connection takes its token and its slot. A connection refused here is closed with
 *    {@link ADMISSION_CLOSE_CODE}, which the client does see.
 *
 * Pending handshakes are bounded without refusing anyone: at most `max_connections_per_ip` (32
 * when that is off) per prefix and {@link DEFAULT_MAX_PENDING} in all; a new one beyond either
 * evicts the oldest (closed and counted as `handshake_limit`). A client's handshake takes one
 * round trip, so to push a real client out a flood must bring that many new handshakes within
 * its round trip — 1,024 within 100 ms is over 10,000 attempts/s, several times what one core
 * can accept — while handshakes that stall (or whose spoofed address never answers) are the
 * oldest and go first.
 *
 * @module
 */
import { type AccessConfig, isV4Mapped, type LimitsConfig, parseIpAddress } from "../config/mod.ts";
import type { RefusalReason } from "../observability/mod.ts";
import { AccessMatcher } from "./access_matcher.ts";
import { prefixKey, rekey, UNREADABLE_KEY } from "./prefix_key.ts";
import { type PrefixEntry, PrefixTable } from "./prefix_table.ts";

/**
 * QUIC application close code sent to a connection refused at admission (any reason). A client
 * refused before its handshake completed cannot see it: RFC 9000 §10.2.3 turns an application
 * close in the handshake packet spaces into a bare transport `APPLICATION_ERROR`.
 */
export const ADMISSION_CLOSE_CODE = 0x50;

/** The close reason text sent with {@link ADMISSION_CLOSE_CODE}, by refusal reason. */
export const REFUSAL_TEXTS: Readonly<Record<RefusalReason, string>> = {
  rate_limit: "too many connection attempts",
  per_ip_limit: "too many connections",
  capacity: "server full",
  access_denied: "access denied",
  handshake_limit: "too many handshakes in progress",
  subnet_limit: "too many connections",
};

/** Prefixes without open connections remembered at most (`prefix_table.ts`). */
export const DEFAULT_MAX_IDLE_PREFIXES = 65_536;

/** Connections in their handshake at most, all clients together (see the module comment). */
export const DEFAULT_MAX_PENDING = 1_024;

/** Pending handshakes per prefix at most when `max_connections_per_ip` is off. */
export const DEFAULT_PENDING_PER_PREFIX = 32;

/** What admission is built from: the config's `limits` and `access` (a `Config` will do). */
export interface AdmissionSettings {
  /** The `limits` section. */
  readonly limits: LimitsConfig;
  /** The `access` section. */
  readonly access: AccessConfig;
}

/** Tuning that is not config (tests). */
export interface AdmissionOptions {
  /** Idle prefixes remembered at most; default {@link DEFAULT_MAX_IDLE_PREFIXES}. */
  readonly maxIdlePrefixes?: number;
  /** Pending handshakes at most, all prefixes together; default {@link DEFAULT_MAX_PENDING}. */
  readonly maxPending?: number;
}

/** An admitted connection: call `release` once when it ends (later calls do nothing). */
export interface Admitted {
  /** Discriminant of {@link AdmitResult}. */
  readonly ok: true;
  /** Gives the connection's slots back. */
  release(): void;
}

/** A refused connection and why. */
export interface Refused {
  /** Discriminant of {@link AdmitResult}. */
  readonly ok: false;
  /** The `reason` label it is counted under. */
  readonly reason: RefusalReason;
}

/** What {@link Admission.admit} and {@link Pending.validate} decided. */
export type AdmitResult = Admitted | Refused;

/**
 * A connection whose address passed the checks at 0.5-RTT and whose handshake is under way.
 * Exactly one of `validate` (the handshake completed) or `abandon` (it failed) settles it, unless
 * admission evicted it first to make room (its `evict` callback ran).
 */
export interface Pending {
  /** Discriminant of {@link ArriveResult}. */
  readonly ok: true;
  /**
   * The handshake completed at `now`: the address is validated, so the connection now takes its
   * token and its slot, or is refused. An evicted one is refused as `handshake_limit`.
   */
  validate(now: number): AdmitResult;
  /** The handshake failed or timed out: frees the pending slot (later calls do nothing). */
  abandon(): void;
}

/** What {@link Admission.arrive} decided. */
export type ArriveResult = Pending | Refused;

const REFUSED: Readonly<Record<RefusalReason, Refused>> = {
  rate_limit: Object.freeze({ ok: false, reason: "rate_limit" }),
  per_ip_limit: Object.freeze({ ok: false, reason: "per_ip_limit" }),
  capacity: Object.freeze({ ok: false, reason: "capacity" }),
  access_denied: Object.freeze({ ok: false, reason: "access_denied" }),
  handshake_limit: Object.freeze({ ok: false, reason: "handshake_limit" }),
  subnet_limit: Object.freeze({ ok: false, reason: "subnet_limit" }),
};

// The address of the connection being decided; arrive() is synchronous, so one array serves all.
const WORDS = new Uint32Array(4);

/** See the module comment. One per server; {@link Admission.update} applies a reload. */
export class Admission {
  #limits: LimitsConfig;
  #access: AccessMatcher;
  readonly #table: PrefixTable;
  /** Pending handshakes, oldest first. */
  readonly #pending = new Set<PendingTicket>();
  readonly #maxPending: number;
  #open = 0;
  /** Open connections per IPv6 subnet (`limits.ipv6_subnet`), only subnets with some. */
  readonly #subnets = new Map<string, number>();

  /** Compiles `settings.access`; no connection counted yet. */
  constructor(settings: AdmissionSettings, options: AdmissionOptions = {}) {
    this.#limits = settings.limits;
    this.#access = new AccessMatcher(settings.access);
    this.#table = new PrefixTable(options.maxIdlePrefixes ?? DEFAULT_MAX_IDLE_PREFIXES);
    this.#maxPending = Math.max(1, options.maxPending ?? DEFAULT_MAX_PENDING);
  }

  /**
   * Applies a reloaded config to connections from now on. Open connections stay counted (they
   * are not closed when a limit shrinks; new ones wait until the count is below it). A changed
   * prefix length regroups the counts under the new prefixes (`PrefixTable.regroup`).
   */
  update(settings: AdmissionSettings): void {
    const before = this.#limits;
    this.#limits = settings.limits;
    this.#access = new AccessMatcher(settings.access);
    const { ipv4Prefix, ipv6Prefix } = settings.limits;
    if (before.ipv4Prefix !== ipv4Prefix || before.ipv6Prefix !== ipv6Prefix) {
      this.#table.regroup((key) => rekey(key, ipv4Prefix, ipv6Prefix));
    }
  }

  /**
   * The first decision on a connection from `address` (the client IP as Deno reports it) at
   * `now` (monotonic ms), before its handshake completes: the address may be spoofed, so this
   * only reads the prefix's state — `access`, an empty bucket, a full prefix, a full router —
   * and changes nothing a spoofer could use against the prefix's owner. A passing connection is
   * pending; making room for it may evict the oldest pending handshake of its prefix, or of all
   * (`evict` is that connection's callback: close it).
   */
  arrive(address: string, now: number, evict: () => void): ArriveResult {
    const family = readAddress(address);
    if (family === null ? this.#access.restricted : !this.#access.permits(family, WORDS)) {
      return REFUSED.access_denied;
    }
    const entry = this.#table.see(this.#keyOf(family), this.#limits.handshakeRate.burst, now);
    const subnet = family === 6 ? this.#subnetOf() : null;
    const reason = this.#check(entry, subnet, now, false);
    if (reason !== null) return REFUSED[reason];
    this.#makeRoom(entry);
    const pending = new PendingTicket(this, entry, subnet, evict);
    (entry.pending ??= new Set()).add(pending);
    this.#pending.add(pending);
    this.#table.hold(entry);
    return pending;
  }

  /**
   * {@link arrive} and {@link Pending.validate} at once, for a connection whose address is
   * already validated. Admitted connections must be released when they end.
   */
  admit(address: string, now: number): AdmitResult {
    const arrived = this.arrive(address, now, () => {});
    return arrived.ok ? arrived.validate(now) : arrived;
  }

  /** Connections admitted and not yet released, all clients together. */
  get open(): number {
    return this.#open;
  }

  /** Connections pending (in their handshake), all clients together. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Open connections counted for the prefix `address` belongs to. */
  openFor(address: string): number {
    return this.#table.lookup(this.#keyOf(readAddress(address)))?.open ?? 0;
  }

  /** Prefixes remembered (with connections or a bucket); bounded, see `prefix_table.ts`. */
  get trackedPrefixes(): number {
    return this.#table.size;
  }

  /** @internal {@link PendingTicket.validate}: the checks again, taking a token and a slot. */
  settle(
    pending: PendingTicket,
    entry: PrefixEntry,
    subnet: string | null,
    now: number,
  ): AdmitResult {
    this.#forget(pending, entry);
    const reason = this.#check(entry, subnet, now, true);
    if (reason !== null) {
      this.#table.unhold(entry);
      return REFUSED[reason];
    }
    entry.open++;
    this.#open++;
    if (subnet !== null) this.#subnets.set(subnet, (this.#subnets.get(subnet) ?? 0) + 1);
    return new Ticket(this, entry, subnet);
  }

  /** @internal A pending connection failed its handshake, or was evicted. */
  drop(pending: PendingTicket, entry: PrefixEntry): void {
    this.#forget(pending, entry);
    this.#table.unhold(entry);
  }

  /** @internal {@link Ticket.release}. */
  release(entry: PrefixEntry, subnet: string | null): void {
    entry.open--;
    this.#open--;
    this.#table.unhold(entry);
    if (subnet === null) return;
    const left = this.#subnets.get(subnet)! - 1;
    if (left > 0) this.#subnets.set(subnet, left);
    else this.#subnets.delete(subnet);
  }

  /**
   * The limits in order — rate, per prefix, capacity — or `null` when all pass. `consume` takes
   * the token (only once the address is validated: a spoofed one must not drain the bucket).
   */
  #check(
    entry: PrefixEntry,
    subnet: string | null,
    now: number,
    consume: boolean,
  ): RefusalReason | null {
    const limits = this.#limits;
    const { perSecond, burst } = limits.handshakeRate;
    if (perSecond > 0 && !hasToken(entry, now, perSecond, burst)) return "rate_limit";
    if (perSecond > 0 && consume) entry.tokens -= 1;
    const perIp = limits.maxConnectionsPerIp;
    if (perIp > 0 && entry.open >= perIp) return "per_ip_limit";
    const perSubnet = limits.ipv6Subnet.maxConnections;
    if (subnet !== null && (this.#subnets.get(subnet) ?? 0) >= perSubnet) return "subnet_limit";
    const max = limits.maxConnections;
    if (max > 0 && this.#open >= max) return "capacity";
    return null;
  }

  /** Evicts the oldest pending handshake of `entry`'s prefix, then of all, where full. */
  #makeRoom(entry: PrefixEntry): void {
    const perPrefix = this.#limits.maxConnectionsPerIp || DEFAULT_PENDING_PER_PREFIX;
    if (entry.pending !== null && entry.pending.size >= perPrefix) oldest(entry.pending)?.evict();
    if (this.#pending.size >= this.#maxPending) oldest(this.#pending)?.evict();
  }

  #forget(pending: PendingTicket, entry: PrefixEntry): void {
    entry.pending?.delete(pending);
    this.#pending.delete(pending);
  }

  /**
   * The IPv6 subnet key of the address in {@link WORDS}, or `null` when the subnet limit is off.
   * A connection keeps the key it was admitted under until it ends (a reload that changes the
   * subnet prefix applies to new connections).
   */
  #subnetOf(): string | null {
    const { prefix, maxConnections } = this.#limits.ipv6Subnet;
    return maxConnections > 0 ? prefixKey(6, WORDS, prefix) : null;
  }

  #keyOf(family: 4 | 6 | null): string {
    if (family === null) return UNREADABLE_KEY;
    const { ipv4Prefix, ipv6Prefix } = this.#limits;
    return prefixKey(family, WORDS, family === 4 ? ipv4Prefix : ipv6Prefix);
  }
}

/** A connection in its handshake; settles once (validate, abandon or evict). */
class PendingTicket implements Pending {
  readonly ok = true;
  #admission: Admission | null;
  readonly #entry: PrefixEntry;
  readonly #subnet: string | null;
  readonly #onEvict: () => void;

  constructor(
    admission: Admission,
    entry: PrefixEntry,
    subnet: string | null,
    onEvict: () => void,
  ) {
    this.#admission = admission;
    this.#entry = entry;
    this.#subnet = subnet;
    this.#onEvict = onEvict;
  }

  validate(now: number): AdmitResult {
    const admission = this.#admission;
    if (admission === null) return REFUSED.handshake_limit;
    this.#admission = null;
    return admission.settle(this, this.#entry.current, this.#subnet, now);
  }

  abandon(): void {
    this.#admission?.drop(this, this.#entry.current);
    this.#admission = null;
  }

  /** Called by admission to make room: frees the slot, then tells the connection. */
  evict(): void {
    if (this.#admission === null) return;
    this.abandon();
    try {
      this.#onEvict();
    } catch {
      // The connection's own business (it closes quietly); admission's counts are settled.
    }
  }
}

/** An admitted connection's hold on its prefix entry; releases once. */
class Ticket implements Admitted {
  readonly ok = true;
  #admission: Admission | null;
  readonly #entry: PrefixEntry;
  readonly #subnet: string | null;

  constructor(admission: Admission, entry: PrefixEntry, subnet: string | null) {
    this.#admission = admission;
    this.#entry = entry;
    this.#subnet = subnet;
  }

  release(): void {
    this.#admission?.release(this.#entry.current, this.#subnet);
    this.#admission = null;
  }
}

/** The first (oldest) member of an insertion-ordered set. */
function oldest<T>(set: Set<T>): T | undefined {
  for (const item of set) return item;
  return undefined;
}

/** Parses `address` into {@link WORDS}; an IPv4-mapped address becomes IPv4. */
function readAddress(address: string): 4 | 6 | null {
  const family = parseIpAddress(address, WORDS);
  if (family !== 6 || !isV4Mapped(WORDS)) return family;
  WORDS[0] = WORDS[3]!;
  return 4;
}

/** Refills `entry`'s bucket up to `now`; whether a token is there to take. */
function hasToken(entry: PrefixEntry, now: number, perSecond: number, burst: number): boolean {
  // A clock that steps back refills nothing until it passes the stamp again (the stamp never
  // moves back, so no interval is refilled twice).
  if (now > entry.stamp) {
    entry.tokens += (now - entry.stamp) * perSecond / 1000;
    entry.stamp = now;
  }
  // Also caps a bucket filled under a larger burst before a reload.
  if (entry.tokens > burst) entry.tokens = burst;
  return entry.tokens >= 1;
}
