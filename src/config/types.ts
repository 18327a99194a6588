/**
 * The typed, readonly shape of a loaded configuration. Everything here is produced once by the
 * loader; durations are milliseconds, names are already normalised (lower case, `-` → `_`), so
 * the per-connection path never re-parses strings.
 *
 * Each closed set of names the loader accepts is one `as const` list here with its type derived
 * from it, so the values the loader accepts, the type and every consumer agree by construction.
 */

/** A backend server a client can be referred to. `meta` is `null` when none is configured. */
export interface Backend {
  /** Hostname or IP address the client is referred to. */
  readonly host: string;
  /** UDP port the client is referred to. */
  readonly port: number;
  /** Share of picks under `weighted`; 0 when unset (a `weighted` pool requires more than 0). */
  readonly weight: number;
  /** Metadata read by filters, sort keys and `key`. */
  readonly meta: Readonly<Record<string, string>> | null;
}

/** Load-balancing strategy names, normalised (`Round-Robin` → `round_robin`). */
export const STRATEGY_NAMES = ["round_robin", "random", "weighted", "least_loaded", "p2c"] as const;

/** One of {@link STRATEGY_NAMES}. */
export type StrategyName = (typeof STRATEGY_NAMES)[number];

/** One sort key of a pool's `sort` list. */
export interface SortKeyConfig {
  /** `host`, `port`, `weight`, or a metadata key (`label:X` reads meta `label.X`). */
  readonly key: string;
  /** Sort direction; backends missing the key sort last either way. */
  readonly order: "asc" | "desc";
  /** Compare values numerically or as strings (by code point, as Go does). */
  readonly type: "string" | "number";
}

/** Comparison operators of the `compare` filter. */
export const COMPARE_OPS = ["lt", "lte", "gt", "gte", "eq", "neq"] as const;

/** One of {@link COMPARE_OPS}. */
export type CompareOp = (typeof COMPARE_OPS)[number];

/** A backend filter; a backend must pass every filter of a pool. */
export type FilterConfig =
  | {
    readonly type: "compare";
    readonly left: string;
    readonly op: CompareOp;
    readonly right: string;
  }
  | {
    readonly type: "whitelist";
    readonly enabledKey: string;
    readonly listKey: string;
    readonly subject: "uuid" | "username";
  }
  | { readonly type: "game_start_not_past"; readonly key: string };

/** The selection settings a fallback may override; `undefined` keeps the pool's own value. */
export interface FallbackConfig {
  /** Overrides {@link PoolConfig.strategy}. */
  readonly strategy?: StrategyName;
  /** Overrides {@link PoolConfig.key}. */
  readonly key?: string;
  /** Overrides {@link PoolConfig.sample}. */
  readonly sample?: number;
  /** Overrides {@link PoolConfig.sort}; `[]` clears it. */
  readonly sort?: readonly SortKeyConfig[];
  /** Overrides {@link PoolConfig.limit}. */
  readonly limit?: number;
  /** Overrides {@link PoolConfig.filters}; `[]` clears them. */
  readonly filters?: readonly FilterConfig[];
}

/** Where a pool takes discovered backends from. */
export interface PoolDiscoveryConfig {
  /** Name of the discovery provider to read. */
  readonly provider: string;
  /** `union`: discovered then static backends; `prefer`: discovered ones, static if none. */
  readonly mode: "union" | "prefer";
}

/** A pool of backends and how one is chosen. */
export interface PoolConfig {
  /** How one backend is picked from the remaining candidates. */
  readonly strategy: StrategyName;
  /** Metadata key minimised by `least_loaded` and `p2c`; `""` when unset. */
  readonly key: string;
  /** `p2c` sample size as configured (0 means 2; capped at the candidate count when picking). */
  readonly sample: number;
  /** Sort keys applied after filtering, first key first. */
  readonly sort: readonly SortKeyConfig[];
  /** How many candidates to keep after sorting; 0 = no limit. */
  readonly limit: number;
  /** Filters every candidate must pass. */
  readonly filters: readonly FilterConfig[];
  /** Tried in order when the filters leave no candidate; each overrides the pool's settings. */
  readonly fallback: readonly FallbackConfig[];
  /** The statically configured backends. */
  readonly backends: readonly Backend[];
  /** Where discovered backends come from; `null` for a static-only pool. */
  readonly discovery: PoolDiscoveryConfig | null;
}

/** One routing rule: hostname patterns (already lower-cased, trailing dot removed) and a pool. */
export interface RouteConfig {
  /** Exact names or glob patterns matched against the SNI. */
  readonly hostnames: readonly string[];
  /** Where matching connections go. */
  readonly pool: PoolConfig;
}

/** The `routing` section. */
export interface RoutingConfig {
  /** The pool for connections no route matches; `null` = they get `no_route`. */
  readonly default: PoolConfig | null;
  /** Routes in config order; the first matching route wins. */
  readonly routes: readonly RouteConfig[];
}

/** The four player-facing Disconnect texts. */
export interface DisconnectMessages {
  /** No route matched and there is no default pool. */
  readonly no_route: string;
  /** The pool had no candidate left after filters and fallbacks. */
  readonly no_backends: string;
  /** Any other routing failure, and plugin denials without a usable reason. */
  readonly routing_error: string;
  /** The pool's discovered backends could not be read. */
  readonly discovery_error: string;
}

/** Which Disconnect text a routing failure maps to. */
export type DisconnectKind = keyof DisconnectMessages;

/** The `messages` section: base texts plus per-locale overrides (keys lower-cased). */
export interface MessagesConfig {
  /** The texts used when no locale override applies. */
  readonly disconnect: DisconnectMessages;
  /** Locale key (lower case, `_` → `-`) → the non-blank overrides of that locale. */
  readonly locales: ReadonlyMap<string, Partial<DisconnectMessages>>;
}

/** A UDP listen address. `hostname` is `"0.0.0.0"`/`"::"` style for all interfaces. */
export interface ListenAddress {
  /** IP address or hostname to bind; `::` (all interfaces) when the host part is empty. */
  readonly hostname: string;
  /** UDP port to bind; 0 = any free port. */
  readonly port: number;
}

/** Plugin stages, in the order they run. */
export const PLUGIN_STAGES = ["deny", "route", "mutate"] as const;

/** One of {@link PLUGIN_STAGES}. */
export type PluginStage = (typeof PLUGIN_STAGES)[number];

/** What a plugin does when a call fails or times out. */
export const FAILURE_POLICIES = ["continue", "deny"] as const;

/** One of {@link FAILURE_POLICIES}. */
export type FailurePolicy = (typeof FAILURE_POLICIES)[number];

/** Plugin transports (`type`): each names its settings section (`grpc:`, `wasm:`, `process:`). */
export const PLUGIN_TYPES = ["grpc", "wasm", "process"] as const;

/** One of {@link PLUGIN_TYPES}. */
export type PluginType = (typeof PLUGIN_TYPES)[number];

/** Settings every plugin has, whatever its transport. */
export interface PluginBase {
  /** Unique among plugins; names it in every log line and metric. */
  readonly name: string;
  /** Which stage the plugin runs in. */
  readonly stage: PluginStage;
  /** Same-stage plugins that must run after this one (names outside the stage dropped). */
  readonly before: readonly string[];
  /** Same-stage plugins that must run before this one (names outside the stage dropped). */
  readonly after: readonly string[];
  /** Per-call deadline (`timeout`, default 1 s). */
  readonly timeoutMs: number;
  /** What a failed or timed-out call means for the connection. */
  readonly failurePolicy: FailurePolicy;
}

/** An out-of-process plugin reached over gRPC. */
export interface GrpcPluginConfig extends PluginBase {
  /** Discriminant of {@link PluginConfig}. */
  readonly type: "grpc";
  /** `grpc.address`: `host:port` of the plugin server. */
  readonly grpc: { readonly address: string };
}

/** Where a WASM plugin's instances run (`wasm.isolation`). */
export const WASM_ISOLATIONS = ["worker", "process"] as const;

/** One of {@link WASM_ISOLATIONS}. */
export type WasmIsolation = (typeof WASM_ISOLATIONS)[number];

/** An in-process WebAssembly (WASI preview1) plugin. */
export interface WasmPluginConfig extends PluginBase {
  /** Discriminant of {@link PluginConfig}. */
  readonly type: "wasm";
  /** The `wasm` section. */
  readonly wasm: {
    /** As configured (relative paths are relative to the working directory, as in Hyrouter). */
    readonly path: string;
    /** Lower-case hex SHA-256 pin, or `null`. */
    readonly sha256: string | null;
    /** `wasm.config` as a JSON value; `{}` when unset. */
    readonly config: unknown;
    /** Linear-memory cap in bytes, all memories together (`max_memory`, default 64 MiB). */
    readonly maxMemoryBytes: number;
    /** Table-element cap, all tables together (`max_table_elements`, default 65,536). */
    readonly maxTableElements: number;
    /** Largest module file accepted, bytes (`max_module_size`, default 32 MiB). */
    readonly maxModuleBytes: number;
    /**
     * Where instances run (`isolation`): `worker` (default) — threads of the router's process;
     * `process` — a child Deno process with no permissions and a capped heap, killed and
     * restarted when a call escapes its deadline.
     */
    readonly isolation: WasmIsolation;
  };
}

/** What a `process.module` plugin may use beyond its socket (`process.permissions`). */
export interface ProcessPermissions {
  /** `net`: `host:port` (or `host`) entries for the child's `--allow-net`. */
  readonly net: readonly string[];
  /** `read`: absolute paths (relative ones resolved against the config file's folder). */
  readonly read: readonly string[];
  /** `env`: variable names for the child's `--allow-env`. */
  readonly env: readonly string[];
}

/**
 * A supervised child process reached over stdin/stdout (lifecycle) and a Unix socket (hooks):
 * docs/plugins.md §7, the prox plugin contract adapted to Gatehouse.
 */
export interface ProcessPluginConfig extends PluginBase {
  /** Discriminant of {@link PluginConfig}. */
  readonly type: "process";
  /** The `process` section. */
  readonly process: {
    /**
     * The program and its arguments (`command`), or `null` for a `module` plugin. The program is
     * absolute, or a bare name (no `/`, such as `go`) that is looked up on the router's `PATH`
     * when it starts it; a relative path (`./guard`, `bin/guard`) was resolved against the
     * config file's folder. The program runs outside Deno's sandbox, with the OS rights of the
     * router's user. Exactly one of `command` and `module` is set.
     */
    readonly command: readonly string[] | null;
    /**
     * A TypeScript/JavaScript module run by the router's own Deno runtime (`module`), absolute
     * (resolved against the config file's folder), with no permissions but its socket and
     * `permissions`; `null` for a `command` plugin.
     */
    readonly module: string | null;
    /** `permissions` of a `module` plugin (empty lists for a `command` one). */
    readonly permissions: ProcessPermissions;
    /** `env`: the child's whole environment, plus `PATH`. */
    readonly env: Readonly<Record<string, string>>;
    /** `config`: passed verbatim in `configure.params.config`; `{}` when unset. */
    readonly config: unknown;
    /** `pool_size`: socket connections for calls (default 4, 1–64). */
    readonly poolSize: number;
    /** `ready_timeout`: start → `ready` (default 5 s). */
    readonly readyTimeoutMs: number;
    /**
     * The folder private to this plugin, `<runtime dir>/<plugin name>`, and the exact socket path
     * in it the plugin must listen on (`plugin.sock`). Named by the router (Deno grants Unix
     * sockets per exact path), stable across restarts and reloads of the same config file; see
     * `config/process_plugin.ts` for the naming.
     */
    readonly socketDir: string;
    /** See {@link socketDir}. */
    readonly socketPath: string;
    /**
     * The child's working directory: the config file's folder, so that a relative path in
     * `config` (a ban list, say) means what the same path means in the config file.
     */
    readonly workDir: string;
  };
}

/** One configured plugin. */
export type PluginConfig = GrpcPluginConfig | WasmPluginConfig | ProcessPluginConfig;

/** One requirement of a Kubernetes label selector (`=`/`==` are `in`, `!=` is `not_in`). */
export type LabelRequirement =
  | { readonly op: "exists" | "not_exists"; readonly key: string }
  | { readonly op: "in" | "not_in"; readonly key: string; readonly values: readonly string[] }
  | { readonly op: "gt" | "lt"; readonly key: string; readonly value: number };

/** One `key=value` of an annotation selector; every one must match exactly. */
export interface AnnotationRequirement {
  /** Annotation key. */
  readonly key: string;
  /** The value it must have. */
  readonly value: string;
}

/** Which objects a discovery source takes: all label and annotation requirements must hold. */
export interface ObjectSelector {
  /** Parsed `selector.labels`; empty selects everything. */
  readonly labels: readonly LabelRequirement[];
  /** The label selector as written (trimmed), sent to the API as `labelSelector`. */
  readonly labelText: string;
  /** Parsed `selector.annotations`; empty selects everything. */
  readonly annotations: readonly AnnotationRequirement[];
}

/** How a backend's port is found; `""`/0 = unset. */
export interface DiscoveryPortConfig {
  /** A named port (container port, EndpointSlice port or Agones port name). */
  readonly name: string;
  /** A fixed port number. */
  readonly number: number;
  /** Pods only: a fixed container port, taking precedence over the others. */
  readonly containerPort: number;
}

/** Labels and annotations copied into backend meta (`label.X`, `annotation.X`). */
export interface DiscoveryMetadataConfig {
  /** Labels copied as meta `label.X`. */
  readonly includeLabels: readonly string[];
  /** Annotations copied as meta `annotation.X`. */
  readonly includeAnnotations: readonly string[];
}

/** One watched Kubernetes resource of a `kubernetes` provider. */
export type KubernetesResourceConfig =
  | {
    readonly kind: "pods";
    readonly selector: ObjectSelector;
    readonly port: DiscoveryPortConfig;
  }
  | {
    readonly kind: "endpointslices";
    readonly selector: ObjectSelector;
    readonly port: DiscoveryPortConfig;
    /** Only slices of this Service (label `kubernetes.io/service-name`); `null` = any. */
    readonly service: { readonly name: string; readonly namespace: string } | null;
  };

/** `kubernetes:` settings of a provider. */
export interface KubernetesDiscoveryConfig {
  /** Path of a kubeconfig file; `null` = in-cluster service account. */
  readonly kubeconfig: string | null;
  /** Namespaces to read; empty = all. */
  readonly namespaces: readonly string[];
  /** The resources watched; each contributes backends. */
  readonly resources: readonly KubernetesResourceConfig[];
  /** Which pods and endpoints count. */
  readonly filters: {
    /** Pods need the condition Ready=True. */
    readonly requirePodReady: boolean;
    /** Allowed pod phases (compared case-insensitively); empty = any. */
    readonly requirePodPhase: readonly string[];
    /** Endpoints whose `conditions.ready` is false are skipped. */
    readonly requireEndpointReady: boolean;
  };
  /** Labels and annotations copied into backend meta. */
  readonly metadata: DiscoveryMetadataConfig;
}

/** `agones:` settings of a provider. */
export interface AgonesDiscoveryConfig {
  /** Path of a kubeconfig file; `null` = in-cluster service account. */
  readonly kubeconfig: string | null;
  /** Namespaces to read (observe) or the first to allocate in; empty = all / `default`. */
  readonly namespaces: readonly string[];
  /** `observe` watches GameServers; `allocate` creates a GameServerAllocation per connection. */
  readonly mode: "observe" | "allocate";
  /** Allocate: at least this long between allocations; 0 = no throttle. */
  readonly allocateMinIntervalMs: number;
  /** Allowed GameServer states as configured (default `["Ready"]`); allocate uses the first. */
  readonly states: readonly string[];
  /** Which GameServers count (allocate: `k=v` label pairs become `matchLabels`). */
  readonly selector: ObjectSelector;
  /** Labels and annotations copied into backend meta. */
  readonly metadata: DiscoveryMetadataConfig;
  /** Where the host comes from: `status.address`, or `status.addresses[]` by preference. */
  readonly address: {
    readonly source: "address" | "addresses";
    readonly preference: readonly string[];
  };
  /** Which `status.ports[]` entry is the game port. */
  readonly port: DiscoveryPortConfig;
}

/**
 * A provider fed by a process plugin's `set_targets` pushes (docs/plugins.md §7): the plugin
 * `name` must be a configured `type: process` plugin.
 */
export interface PluginDiscoveryConfig {
  /** `plugin.name`: the process plugin that pushes. */
  readonly pluginName: string;
  /** `plugin.route_id`: which target set (`set_targets` `route_id` or `action`); default the provider's name. */
  readonly routeId: string;
}

/** Discovery provider types (`type`): each names its settings section. */
export const DISCOVERY_PROVIDER_TYPES = ["kubernetes", "agones", "plugin"] as const;

/** One configured discovery provider. */
export type DiscoveryProviderConfig =
  & {
    readonly name: string;
    /**
     * `insecure_http` (default false): allow a plain `http://` API server to receive the
     * credentials (token, token file, client certificate); logged at warn when used. Always
     * false for a `plugin` provider, which has no API server.
     */
    readonly insecureHttp: boolean;
  }
  & (
    | { readonly type: "kubernetes"; readonly kubernetes: KubernetesDiscoveryConfig }
    | { readonly type: "agones"; readonly agones: AgonesDiscoveryConfig }
    | { readonly type: "plugin"; readonly plugin: PluginDiscoveryConfig }
  );

/** The `limits` section. Every count limit is off at 0. */
export interface LimitsConfig {
  /** `connect_timeout` (default 5 s): the first Connect must arrive within it. */
  readonly connectTimeoutMs: number;
  /** `max_connections_per_ip` (default 32): concurrent connections per client prefix. */
  readonly maxConnectionsPerIp: number;
  /** `ipv4_prefix` (default 32): IPv4 clients sharing this many leading bits are one client. */
  readonly ipv4Prefix: number;
  /** `ipv6_prefix` (default 64): IPv6 clients sharing this many leading bits are one client. */
  readonly ipv6Prefix: number;
  /** `handshake_rate`: a token bucket per client prefix; `perSecond` 0 turns it off. */
  readonly handshakeRate: {
    /** Tokens added per second (default 20). */
    readonly perSecond: number;
    /** Bucket size: connections a quiet prefix may open at once (default 40). */
    readonly burst: number;
  };
  /** `max_connections` (default 10,000): concurrent connections of all clients together. */
  readonly maxConnections: number;
  /**
   * `ipv6_subnet`: concurrent connections of all IPv6 clients in one wider subnet together (one
   * subscriber's /56 or /48 holds many /64 client prefixes).
   */
  readonly ipv6Subnet: {
    /** Leading bits of the subnet (default 48; at most `ipv6_prefix`). */
    readonly prefix: number;
    /** Concurrent connections per subnet (default 1,024; 0: off). */
    readonly maxConnections: number;
  };
}

/** One `access` range, host bits zero; an IPv4-mapped IPv6 range is stored as its IPv4 range. */
export interface CidrRange {
  /** 4 or 6. */
  readonly family: 4 | 6;
  /** The network address as big-endian 32-bit words: one for IPv4, four for IPv6. */
  readonly words: readonly number[];
  /** Leading bits that must match: 0–32 (IPv4) or 0–128 (IPv6). */
  readonly prefixLength: number;
  /** Canonical text, e.g. `10.0.0.0/8`, `2001:db8::/32`. */
  readonly text: string;
}

/** The `access` section: deny wins; with `allow` set, only listed ranges get in. */
export interface AccessConfig {
  /** `allow`; `null` when unset (every address not denied may connect). Never empty. */
  readonly allow: readonly CidrRange[] | null;
  /** `deny`; empty when unset. */
  readonly deny: readonly CidrRange[];
}

/** One `maintenance.bypass` entry, classified once at load. */
export type BypassEntry =
  /** A player name, compared case-insensitively. */
  | { readonly kind: "username"; readonly text: string }
  /** A player UUID, `8-4-4-4-12` lower-case hex. */
  | { readonly kind: "uuid"; readonly text: string }
  /** A client address range (a bare address is its /32 or /128); `text` is canonical. */
  | { readonly kind: "ip"; readonly text: string; readonly range: CidrRange };

/** The `maintenance` section (and the runtime value `PUT /api/v1/maintenance` sets). */
export interface MaintenanceConfig {
  /** Whether players not bypassing get the maintenance Disconnect instead of a referral. */
  readonly enabled: boolean;
  /** The Disconnect text when no locale applies. */
  readonly message: string;
  /** `message_locales`: locale key (lower case, `_` → `-`) → text. */
  readonly messageLocales: Readonly<Record<string, string>>;
  /** Who is routed as usual while maintenance is on. */
  readonly bypass: readonly BypassEntry[];
}

/** `admin.state_config_map`: the ConfigMap replicas share their runtime state through. */
export interface StateConfigMapConfig {
  /** The ConfigMap's name. */
  readonly name: string;
  /** Its namespace. */
  readonly namespace: string;
  /** Path of a kubeconfig file as configured; `null` (`""`) = in-cluster service account. */
  readonly kubeconfig: string | null;
}

/** The whole configuration. */
export interface Config {
  /** Path of the file this was loaded from (for messages). */
  readonly source: string;
  /**
   * The config's fingerprint, set by `loadConfig`: sha256 (lower-case hex) of its canonical
   * rendering with secrets replaced by a marker (`fingerprint.ts`), so showing it reveals no
   * secret; `null` when parsed from a string.
   */
  readonly sha256: string | null;
  /** The UDP address the QUIC listener binds. */
  readonly listen: ListenAddress;
  /** The certificate to serve and the ALPN protocols to advertise. */
  readonly tls: {
    /** Both set or both null (then a self-signed certificate is generated). */
    readonly certFile: string | null;
    readonly keyFile: string | null;
    /** ALPN protocols as configured (`hytale/*` is expanded by the server). */
    readonly alpn: readonly string[];
  };
  /** QUIC idle timeout (`max_idle_timeout`; unset or 0 gives quic-go's 30 s). */
  readonly quic: { readonly maxIdleTimeoutMs: number };
  /** Whether log lines carry the client's IP address (default true). */
  readonly logging: { readonly logClientIp: boolean };
  /** The `routing` section. */
  readonly routing: RoutingConfig;
  /** The referral envelope's key id (0–255) and signing secret. */
  readonly referral: {
    readonly keyId: number;
    /** Decoded secret bytes; `null` = envelopes are not signed. */
    readonly hmacSecret: Uint8Array | null;
  };
  /** Player-facing Disconnect texts. */
  readonly messages: MessagesConfig;
  /** Connection limits: `connect_timeout` and the admission limits (`server/admission.ts`). */
  readonly limits: LimitsConfig;
  /** Which client addresses may connect at all. */
  readonly access: AccessConfig;
  /** Maintenance mode as configured (the admin API may override it at run time). */
  readonly maintenance: MaintenanceConfig;
  /** Plugins in execution order: by stage, then `before`/`after`, then config order. */
  readonly plugins: readonly PluginConfig[];
  /** Discovery providers, by config order; pools reference them by name. */
  readonly discovery: { readonly providers: readonly DiscoveryProviderConfig[] };
  /** HTTP admin endpoint (`/metrics`, `/healthz`, `/readyz`, `/api/v1/*`). */
  readonly admin: {
    /** `null` when disabled (`""`). */
    readonly listen: ListenAddress | null;
    /** `admin.token_file`, absolute (resolved against the config file's folder); `null` unset. */
    readonly tokenFile: string | null;
    /**
     * The bearer token `/api/v1/*` requires: the token file's text without surrounding white
     * space, read by `loadConfig` (`null` from `parseConfig`, or with no token file). A secret:
     * redacted from the fingerprint, never logged.
     */
    readonly token: Uint8Array | null;
    /**
     * `admin.state_file`, absolute (resolved against the config file's folder): where the
     * runtime state (maintenance, drains) is kept for one process; `null` unset.
     */
    readonly stateFile: string | null;
    /** `admin.state_config_map`: the runtime state shared by replicas; `null` unset. */
    readonly stateConfigMap: StateConfigMapConfig | null;
  };
}
