/**
 * `limits.max_connections_per_ip`: how many connections one client address may hold at once.
 *
 * Why this acts after the QUIC handshake and not on the `QuicIncoming`: on Deno 2.9.6 every
 * `QuicIncoming` getter (`remoteAddr`, `localIp`, `remoteAddressValidated`) runs an op that
 * `take()`s the native `quinn::Incoming` out of its resource and drops it when the op returns;
 * quinn refuses a dropped `Incoming`. Reading the address therefore already refuses the
 * connection (the client sees "the server refused to accept a new connection") and a later
 * `accept()`/`refuse()`/`ignore()` throws `BadResource` (checked with a probe script against
 * 2.9.6 and in Deno's `ext/net/quic.rs`). The address becomes readable without side effects only
 * on the accepted `QuicConn`, so the server accepts, asks this limiter, and closes a connection
 * over the limit at once with {@link PER_IP_CLOSE_CODE} before reading any stream. Because the
 * handshake cost is paid either way, the limit counts concurrent connections (released when each
 * one ends), not connection attempts.
 */

/** QUIC application close code sent to a connection refused by the per-IP limit. */
export const PER_IP_CLOSE_CODE = 0x50;

/** Counts open connections per client address and refuses those over `maxPerIp`. */
export class PerIpLimiter {
  readonly #open = new Map<string, number>();
  #refused = 0;

  /**
   * Concurrent connections allowed per address; `0` = off. A reload may assign a new value;
   * connections admitted while the limit was off are not counted.
   */
  maxPerIp: number;

  /**
   * Starts with no connections counted.
   *
   * @param maxPerIp concurrent connections allowed per address; `0` turns the limit off.
   */
  constructor(maxPerIp: number) {
    this.maxPerIp = maxPerIp;
  }

  /** Whether the limit is on (a positive `maxPerIp`). */
  get enabled(): boolean {
    return this.maxPerIp > 0;
  }

  /** Connections refused since start. */
  get refused(): number {
    return this.#refused;
  }

  /** Open connections counted for `hostname` (as the server saw it). */
  openFor(hostname: string): number {
    return this.#open.get(addressKey(hostname)) ?? 0;
  }

  /** Addresses with at least one open connection (the map's size; bounded by open connections). */
  get trackedAddresses(): number {
    return this.#open.size;
  }

  /**
   * Counts one more connection from `hostname`. Returns the function that releases it (call it
   * once, when the connection ends), or `null` when the address is at its limit (counted as a
   * refusal; nothing to release).
   */
  admit(hostname: string): (() => void) | null {
    if (!this.enabled) return noop;
    const key = addressKey(hostname);
    const open = this.#open.get(key) ?? 0;
    if (open >= this.maxPerIp) {
      this.#refused++;
      return null;
    }
    this.#open.set(key, open + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.#open.get(key) ?? 1) - 1;
      if (left > 0) this.#open.set(key, left);
      else this.#open.delete(key);
    };
  }
}

function noop(): void {}

// A dual-stack endpoint ("::") reports IPv4 clients as IPv4-mapped IPv6 addresses; count them
// under the plain IPv4 address so both spellings share one budget.
function addressKey(hostname: string): string {
  const lower = hostname.toLowerCase();
  return lower.startsWith("::ffff:") && lower.includes(".") ? lower.slice(7) : lower;
}
