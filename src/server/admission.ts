/**
 * Admission: whether a new client connection may be served, decided once per connection from
 * the config's `access` lists and `limits` — `access_denied`, `rate_limit`
 * (`limits.handshake_rate`, a token bucket per client prefix), `per_ip_limit`
 * (`limits.max_connections_per_ip`, concurrent connections per prefix) and `capacity`
 * (`limits.max_connections`, all clients together), checked in that order.
 *
 * A "client" is a prefix: `limits.ipv4_prefix` (default /32) or `limits.ipv6_prefix` (default
 * /64 — one IPv6 subscriber usually holds a whole /64, so counting per address would give it 2^64
 * budgets). An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, how the dual-stack `::` listener
 * reports an IPv4 client) is its IPv4 address, for the limits and for `access` alike.
 *
 * Where the server asks: once per connection, as soon as the client's address can be read
 * without refusing the attempt — on Deno 2.9.6 reading a `QuicIncoming`'s address consumes it
 * (every getter `take()`s the native `quinn::Incoming` and drops it, which refuses it), so only
 * once the attempt is accepted (`quic_accept.ts` has the details and what a refusal costs). A
 * refused connection is closed at once, before any stream is read. The handshake rate therefore
 * counts connection attempts that reached admission, and the counts hold until `release()`.
 *
 * Cost per connection: one parse of the address into a shared scratch array, a bisection per
 * `access` list set, then one short key string and one map lookup; one small ticket object per
 * admitted connection (a refused one allocates at most the key; an access refusal nothing).
 * Measured: under 1 µs for admit + release. Memory: see `prefix_table.ts`.
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
};

/** Prefixes without open connections remembered at most (`prefix_table.ts`). */
export const DEFAULT_MAX_IDLE_PREFIXES = 65_536;

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

/** What {@link Admission.admit} decided. */
export type AdmitResult = Admitted | Refused;

const REFUSED: Readonly<Record<RefusalReason, Refused>> = {
  rate_limit: Object.freeze({ ok: false, reason: "rate_limit" }),
  per_ip_limit: Object.freeze({ ok: false, reason: "per_ip_limit" }),
  capacity: Object.freeze({ ok: false, reason: "capacity" }),
  access_denied: Object.freeze({ ok: false, reason: "access_denied" }),
};

// The address of the connection being decided; admit() is synchronous, so one array serves all.
const WORDS = new Uint32Array(4);

/** See the module comment. One per server; {@link Admission.update} applies a reload. */
export class Admission {
  #limits: LimitsConfig;
  #access: AccessMatcher;
  readonly #table: PrefixTable;

  /** Compiles `settings.access`; no connection counted yet. */
  constructor(settings: AdmissionSettings, options: AdmissionOptions = {}) {
    this.#limits = settings.limits;
    this.#access = new AccessMatcher(settings.access);
    this.#table = new PrefixTable(options.maxIdlePrefixes ?? DEFAULT_MAX_IDLE_PREFIXES);
  }

  /**
   * Applies a reloaded config to connections from now on. Open connections stay counted (they
   * are not closed when a limit shrinks; new ones wait until the count is below it). A changed
   * prefix length regroups the open counts under the new prefixes (`PrefixTable.regroup`).
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
   * Decides on one connection from `address` (the client IP as Deno reports it) at `now`
   * (monotonic ms). Admitted connections must be released when they end.
   */
  admit(address: string, now: number): AdmitResult {
    const limits = this.#limits;
    const family = readAddress(address);
    if (family === null ? this.#access.restricted : !this.#access.permits(family, WORDS)) {
      return REFUSED.access_denied;
    }
    const { perSecond, burst } = limits.handshakeRate;
    const entry = this.#table.see(this.#keyOf(family), burst, now);
    if (perSecond > 0 && !takeToken(entry, now, perSecond, burst)) return REFUSED.rate_limit;
    const perIp = limits.maxConnectionsPerIp;
    if (perIp > 0 && entry.open >= perIp) return REFUSED.per_ip_limit;
    const max = limits.maxConnections;
    if (max > 0 && this.#table.open >= max) return REFUSED.capacity;
    this.#table.opened(entry);
    return new Ticket(this.#table, entry);
  }

  /** Connections admitted and not yet released, all clients together. */
  get open(): number {
    return this.#table.open;
  }

  /** Open connections counted for the prefix `address` belongs to. */
  openFor(address: string): number {
    return this.#table.lookup(this.#keyOf(readAddress(address)))?.open ?? 0;
  }

  /** Prefixes remembered (with open connections or a bucket); bounded, see `prefix_table.ts`. */
  get trackedPrefixes(): number {
    return this.#table.size;
  }

  #keyOf(family: 4 | 6 | null): string {
    if (family === null) return UNREADABLE_KEY;
    const { ipv4Prefix, ipv6Prefix } = this.#limits;
    return prefixKey(family, WORDS, family === 4 ? ipv4Prefix : ipv6Prefix);
  }
}

/** An admitted connection's hold on its prefix entry; releases once. */
class Ticket implements Admitted {
  readonly ok = true;
  #table: PrefixTable | null;
  readonly #entry: PrefixEntry;

  constructor(table: PrefixTable, entry: PrefixEntry) {
    this.#table = table;
    this.#entry = entry;
  }

  release(): void {
    this.#table?.closed(this.#entry);
    this.#table = null;
  }
}

/** Parses `address` into {@link WORDS}; an IPv4-mapped address becomes IPv4. */
function readAddress(address: string): 4 | 6 | null {
  const family = parseIpAddress(address, WORDS);
  if (family !== 6 || !isV4Mapped(WORDS)) return family;
  WORDS[0] = WORDS[3]!;
  return 4;
}

/** Refills `entry`'s bucket up to `now` and takes one token; false when none is left. */
function takeToken(entry: PrefixEntry, now: number, perSecond: number, burst: number): boolean {
  // A clock that steps back refills nothing until it passes the stamp again (the stamp never
  // moves back, so no interval is refilled twice).
  if (now > entry.stamp) {
    entry.tokens += (now - entry.stamp) * perSecond / 1000;
    entry.stamp = now;
  }
  // Also caps a bucket filled under a larger burst before a reload.
  if (entry.tokens > burst) entry.tokens = burst;
  if (entry.tokens < 1) return false;
  entry.tokens -= 1;
  return true;
}
