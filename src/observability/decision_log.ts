/**
 * The last decisions the router made, for the admin API (`/api/v1/decisions`) and its live
 * stream (`/api/v1/events`): a fixed-size ring, so memory stays bounded however many players
 * arrive, and listeners that hear each new record.
 */

/** What one plugin did for one decision. */
export interface PluginVerdictRecord {
  /** The plugin's configured name. */
  readonly plugin: string;
  /** `continue`, `deny`, `error` (failed, skipped by policy) or `skipped` (not called). */
  readonly verdict: string;
  /** Call duration in milliseconds. */
  readonly ms: number;
  /** The failure, when the call failed. */
  readonly error?: string;
}

/** One decision as the router recorded it (times as epoch milliseconds; see {@link decisionJson}). */
export interface DecisionRecord {
  /** When the reply was chosen, epoch milliseconds. */
  readonly at: number;
  /** The TLS server name (`""` without one). */
  readonly sni: string;
  /** The Connect's username (`""` when undecodable). */
  readonly username: string;
  /** The Connect's uuid (`""` when undecodable). */
  readonly uuid: string;
  /** Route label (`routes[0]`, `default`), `null` when none matched. */
  readonly route: string | null;
  /** `host:port` referred to, `null` for a Disconnect. */
  readonly backend: string | null;
  /** The connection outcome (`referral`, `deny`, `maintenance`, …). */
  readonly outcome: string;
  /** One per plugin in chain order; empty without plugins. */
  readonly plugins: readonly PluginVerdictRecord[];
  /** Connect read → reply chosen, milliseconds. */
  readonly durationMs: number;
  /** The client's `ip:port`; only when `logging.log_client_ip` is on. */
  readonly client: string | null;
}

/**
 * A decision as the API shows it: the record's fields with `time` (ISO 8601) for `at`,
 * `duration_ms` (two decimals) for `durationMs`, and `client` only when it was recorded.
 */
export type DecisionJson =
  & Omit<DecisionRecord, "at" | "durationMs" | "client">
  & { readonly time: string; readonly duration_ms: number; readonly client?: string };

/** The JSON form of a record; built when read, not when recorded. */
export function decisionJson(r: DecisionRecord): DecisionJson {
  const json = {
    time: new Date(r.at).toISOString(),
    sni: r.sni,
    username: r.username,
    uuid: r.uuid,
    route: r.route,
    backend: r.backend,
    outcome: r.outcome,
    plugins: r.plugins,
    duration_ms: Math.round(r.durationMs * 100) / 100,
  };
  return r.client === null ? json : { ...json, client: r.client };
}

/** How many decisions the ring keeps by default. */
export const DECISION_LOG_SIZE = 1_000;

/** A bounded ring of the newest decisions, with listeners. */
export class DecisionLog {
  readonly #ring: (DecisionRecord | undefined)[];
  #next = 0;
  readonly #listeners = new Set<(record: DecisionRecord) => void>();
  // Recorded, not yet told to the listeners (see `record`).
  readonly #unheard: DecisionRecord[] = [];

  /** Keeps the newest `capacity` records. */
  constructor(readonly capacity: number = DECISION_LOG_SIZE) {
    this.#ring = new Array(capacity);
  }

  /**
   * Adds a record (the oldest falls out) and tells every listener — in a microtask, so a
   * connection that records its decision and then writes its reply hands the reply to QUIC
   * before any event stream formats the record. A throwing listener is dropped.
   */
  record(record: DecisionRecord): void {
    this.#ring[this.#next] = record;
    this.#next = (this.#next + 1) % this.capacity;
    if (this.#listeners.size === 0) return;
    this.#unheard.push(record);
    if (this.#unheard.length === 1) queueMicrotask(() => this.#tell());
  }

  #tell(): void {
    const records = this.#unheard.splice(0);
    for (const listener of this.#listeners) {
      try {
        for (const record of records) listener(record);
      } catch {
        this.#listeners.delete(listener);
      }
    }
  }

  /** Up to `limit` records, newest first. */
  recent(limit: number): DecisionRecord[] {
    const out: DecisionRecord[] = [];
    for (let i = 1; i <= this.capacity && out.length < limit; i++) {
      const record = this.#ring[(this.#next - i + this.capacity) % this.capacity];
      if (record === undefined) break;
      out.push(record);
    }
    return out;
  }

  /** Calls `listener` with every new record until the returned function is called. */
  subscribe(listener: (record: DecisionRecord) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Listeners now subscribed (the admin stream counts its clients by it). */
  get listeners(): number {
    return this.#listeners.size;
  }
}
