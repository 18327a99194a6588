/**
 * What a process plugin's handlers see and return: the readable names for the msgpack keys of
 * docs/plugins.md §7 (the hooks). `wire.ts` maps them to and from the short keys.
 */

/** A backend as the router sees it (`{h, p, w, m}` on the wire). */
export interface Backend {
  readonly host: string;
  readonly port: number;
  /** Strategy weight; the router's own backends always have one. Default 1 when you build one. */
  readonly weight?: number;
  /** Discovery metadata (e.g. `group` for a `set_targets` group). */
  readonly meta?: Readonly<Record<string, string>>;
}

/** One player's connection attempt, asked before the router answers it (`on_connect`). */
export interface ConnectInfo {
  /** The plugin's name in the router's config (the `route_id` of `configure`). */
  readonly route: string;
  /** The SNI the client sent. */
  readonly sni: string;
  /** `ip:port` of the client. */
  readonly clientAddress: string;
  /** The matched route's hostname when it is exact; absent for globs and the default pool. */
  readonly matchedHostname?: string;
  /** The matched route's glob (`*.example.com`); absent for exact names and the default pool. */
  readonly matchedGlob?: string;
  /** Absent when the Connect packet could not be decoded (then only `sni` is known). */
  readonly username?: string;
  readonly uuid?: string;
  readonly language?: string;
  readonly clientType?: number;
  readonly protocolHash?: string;
  /** Whether the client sent an identity token (the token itself never leaves the router). */
  readonly identityTokenPresent: boolean;
  /** The pool's backends as routing (and earlier plugins) left them. */
  readonly candidates: readonly Backend[];
  /** Index into `candidates` of the selected backend; −1 for none. */
  readonly selectedIndex: number;
  /** The selected backend; absent when routing found none. */
  readonly backend?: Backend;
  /** Referral content an earlier plugin set; absent when empty. */
  readonly referralContent?: Uint8Array;
}

/**
 * The verdict for one connection. `{ ok: false }` denies (the player sees `reason`); `{ ok: true }`
 * lets the router's decision stand, and the optional fields change it, in the order of
 * docs/plugins.md §2: `candidates` (when non-empty) replace the list, `selectedIndex` picks one,
 * `backend` overrides the pick, `referralContent` replaces what the backend receives.
 */
export type ConnectResult =
  | { readonly ok: false; readonly reason?: string }
  | {
    readonly ok: true;
    readonly candidates?: readonly Backend[];
    readonly selectedIndex?: number;
    readonly backend?: Backend;
    readonly referralContent?: Uint8Array;
  };

/** What happened to a player, told once they have their answer (`on_disconnect`). */
export interface DisconnectInfo {
  readonly route: string;
  /** `referral`, `disconnect`, `timeout`, … */
  readonly outcome: string;
  /** The `host:port` the player was referred to; empty when they got a Disconnect. */
  readonly target: string;
  readonly clientAddress: string;
  readonly username?: string;
  readonly uuid?: string;
  /** Bytes read from and written to the client's stream. */
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** How long the router held the connection, in milliseconds. */
  readonly durationMs: number;
}

/** Log levels the router understands. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** `configure.params.config`: whatever the plugin's `config:` stanza holds, as JSON. */
export type PluginConfig = Record<string, unknown>;

/** What a plugin implements; each handler may be async. Leave out the hooks you do not need. */
export interface Handlers {
  /**
   * Called with `config` on start and on every reload that keeps the plugin. Throwing answers the
   * router with the error: at start the plugin fails to load, on reload the old config stays (and
   * so should whatever your handler set up from it: validate before you replace state).
   * `plugin.setTargets` may be called here every time: at start the kit holds it until `ready`.
   */
  configure?(config: PluginConfig, plugin: Plugin): void | Promise<void>;
  onConnect?(info: ConnectInfo): ConnectResult | Promise<ConnectResult>;
  /** Fire-and-forget: the router does not wait, so neither does the next call on the socket. */
  onDisconnect?(info: DisconnectInfo): void | Promise<void>;
}

/** The running plugin, once the router has it `ready`. */
export interface Plugin {
  /** The socket path the router gave in `configure` (and the plugin listens on). */
  readonly socket: string;
  /** One line in the router's log, tagged with this plugin's name. `args` must be JSON values. */
  log(level: LogLevel, message: string, ...args: unknown[]): void;
  /**
   * Replaces the backends of discovery provider(s) fed by `routeId`: each `host:port` in `targets`
   * becomes a backend of weight 1, each in `groups[name]` one with meta `group: name`.
   */
  setTargets(
    routeId: string,
    targets: readonly string[],
    groups?: Readonly<Record<string, readonly string[]>>,
  ): void;
}
