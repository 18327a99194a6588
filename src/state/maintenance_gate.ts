import {
  type BypassEntry,
  type CidrRange,
  isV4Mapped,
  type MaintenanceConfig,
  maskWord,
  parseIpAddress,
  selectLocale,
} from "../config/mod.ts";

/** Where the maintenance setting in force comes from. */
export type MaintenanceSource = "config" | "api";

/** What a connection shows about its player to the maintenance gate. */
export interface PlayerFacts {
  /** The Connect's username (`""` when unknown). */
  readonly username: string;
  /** The Connect's UUID, `8-4-4-4-12` (`""` when unknown). */
  readonly uuid: string;
  /** The client's IP address as text, `null` when unknown. */
  readonly ip: string | null;
}

/**
 * One maintenance setting compiled for the per-connection check: bypass usernames and UUIDs in
 * lower-case sets, the address ranges as words, the message translations as a map. Built once
 * per change, never per connection.
 */
export class MaintenanceGate {
  /** Whether players who are not bypassed are turned away. */
  readonly enabled: boolean;
  /** The setting this gate was compiled from. */
  readonly settings: MaintenanceConfig;
  /** `config` (the config file's section) or `api` (set at run time). */
  readonly source: MaintenanceSource;
  readonly #names: ReadonlySet<string>;
  readonly #uuids: ReadonlySet<string>;
  readonly #ranges: readonly CidrRange[];
  readonly #locales: ReadonlyMap<string, string>;
  readonly #words = new Uint32Array(4);

  /** Compiles `settings`. */
  constructor(settings: MaintenanceConfig, source: MaintenanceSource) {
    this.enabled = settings.enabled;
    this.settings = settings;
    this.source = source;
    const of = (kind: BypassEntry["kind"]) =>
      settings.bypass.filter((b) => b.kind === kind).map((b) => b.text.toLowerCase());
    this.#names = new Set(of("username"));
    this.#uuids = new Set(of("uuid"));
    this.#ranges = settings.bypass.flatMap((b) => b.kind === "ip" ? [b.range] : []);
    this.#locales = new Map(Object.entries(settings.messageLocales));
  }

  /** Whether this player is routed as usual: by username or UUID (any case), or address. */
  bypassed(facts: PlayerFacts): boolean {
    if (this.#names.size > 0 && this.#names.has(facts.username.toLowerCase())) return true;
    if (this.#uuids.size > 0 && this.#uuids.has(facts.uuid.toLowerCase())) return true;
    if (this.#ranges.length === 0 || facts.ip === null) return false;
    return this.#inRanges(facts.ip);
  }

  /**
   * The Disconnect text for a client's language, chosen as the Disconnect messages choose theirs
   * (docs/configuration.md §6.2): the exact locale, else its base language, else `message`.
   */
  message(language: string): string {
    return selectLocale(this.#locales, language) ?? this.settings.message;
  }

  #inRanges(ip: string): boolean {
    const words = this.#words;
    let family = parseIpAddress(ip.replace(/^\[(.*)\]$/, "$1"), words);
    if (family === null) return false;
    // A dual-stack listener spells an IPv4 client `::ffff:a.b.c.d`; ranges hold it as IPv4.
    if (family === 6 && isV4Mapped(words)) {
      family = 4;
      words[0] = words[3]!;
    }
    return this.#ranges.some((range) =>
      range.family === family &&
      range.words.every((w, i) => maskWord(words[i]!, i, range.prefixLength) === w)
    );
  }
}
