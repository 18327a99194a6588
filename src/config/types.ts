/**
 * The typed, readonly shape of a loaded configuration. Everything here is produced once by the
 * loader; durations are milliseconds, names are already normalised (lower case, `-` → `_`), so
 * the per-connection path never re-parses strings.
 */

/** A backend server a client can be referred to. `meta` is `null` when none is configured. */
export interface Backend {
  readonly host: string;
  readonly port: number;
  readonly weight: number;
  readonly meta: Readonly<Record<string, string>> | null;
}

/** Load-balancing strategy names, normalised (`Round-Robin` → `round_robin`). */
export type StrategyName = "round_robin" | "random" | "weighted" | "least_loaded" | "p2c";

/** One sort key of a pool's `sort` list. */
export interface SortKeyConfig {
  readonly key: string;
  readonly order: "asc" | "desc";
  readonly type: "string" | "number";
}

/** Comparison operators of the `compare` filter. */
export type CompareOp = "lt" | "lte" | "gt" | "gte" | "eq" | "neq";

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
  readonly strategy?: StrategyName;
  readonly key?: string;
  readonly sample?: number;
  readonly sort?: readonly SortKeyConfig[];
  readonly limit?: number;
  readonly filters?: readonly FilterConfig[];
}

/** Where a pool takes discovered backends from. */
export interface PoolDiscoveryConfig {
  readonly provider: string;
  readonly mode: "union" | "prefer";
}

/** A pool of backends and how one is chosen. */
export interface PoolConfig {
  readonly strategy: StrategyName;
  /** Metadata key minimised by `least_loaded` and `p2c`; `""` when unset. */
  readonly key: string;
  /** `p2c` sample size as configured (0 means 2; capped at the candidate count when picking). */
  readonly sample: number;
  readonly sort: readonly SortKeyConfig[];
  /** 0 = no limit. */
  readonly limit: number;
  readonly filters: readonly FilterConfig[];
  readonly fallback: readonly FallbackConfig[];
  readonly backends: readonly Backend[];
  readonly discovery: PoolDiscoveryConfig | null;
}

/** One routing rule: hostname patterns (already lower-cased, trailing dot removed) and a pool. */
export interface RouteConfig {
  readonly hostnames: readonly string[];
  readonly pool: PoolConfig;
}

/** The `routing` section. */
export interface RoutingConfig {
  readonly default: PoolConfig | null;
  readonly routes: readonly RouteConfig[];
}

/** The four player-facing Disconnect texts. */
export interface DisconnectMessages {
  readonly no_route: string;
  readonly no_backends: string;
  readonly routing_error: string;
  readonly discovery_error: string;
}

/** Which Disconnect text a routing failure maps to. */
export type DisconnectKind = keyof DisconnectMessages;

/** The `messages` section: base texts plus per-locale overrides (keys lower-cased). */
export interface MessagesConfig {
  readonly disconnect: DisconnectMessages;
  /** Locale key (lower case, `_` → `-`) → the non-blank overrides of that locale. */
  readonly locales: ReadonlyMap<string, Partial<DisconnectMessages>>;
}

/** A UDP listen address. `hostname` is `"0.0.0.0"`/`"::"` style for all interfaces. */
export interface ListenAddress {
  readonly hostname: string;
  readonly port: number;
}

/** Plugin stages, in the order they run. */
export type PluginStage = "deny" | "route" | "mutate";

/** What a plugin does when a call fails or times out. */
export type FailurePolicy = "continue" | "deny";

/** Settings every plugin has, whatever its transport. */
interface PluginBase {
  /** Unique among plugins; names it in every log line and metric. */
  readonly name: string;
  readonly stage: PluginStage;
  /** Same-stage plugins that must run after this one (names outside the stage dropped). */
  readonly before: readonly string[];
  /** Same-stage plugins that must run before this one (names outside the stage dropped). */
  readonly after: readonly string[];
  /** Per-call deadline (`timeout`, default 1 s). */
  readonly timeoutMs: number;
  readonly failurePolicy: FailurePolicy;
}

/** An out-of-process plugin reached over gRPC. */
export interface GrpcPluginConfig extends PluginBase {
  readonly type: "grpc";
  readonly grpc: { readonly address: string };
}

/** An in-process WebAssembly (WASI preview1) plugin. */
export interface WasmPluginConfig extends PluginBase {
  readonly type: "wasm";
  readonly wasm: {
    /** As configured (relative paths are relative to the working directory, as in Hyrouter). */
    readonly path: string;
    /** Lower-case hex SHA-256 pin, or `null`. */
    readonly sha256: string | null;
    /** `wasm.config` as a JSON value; `{}` when unset. */
    readonly config: unknown;
    /** Linear-memory cap in bytes (`max_memory`, default 64 MiB). */
    readonly maxMemoryBytes: number;
  };
}

/** One configured plugin. */
export type PluginConfig = GrpcPluginConfig | WasmPluginConfig;

/** The whole configuration. */
export interface Config {
  /** Path of the file this was loaded from (for messages). */
  readonly source: string;
  readonly listen: ListenAddress;
  readonly tls: {
    /** Both set or both null (then a self-signed certificate is generated). */
    readonly certFile: string | null;
    readonly keyFile: string | null;
    /** ALPN protocols as configured (`hytale/*` is expanded by the server). */
    readonly alpn: readonly string[];
  };
  readonly quic: { readonly maxIdleTimeoutMs: number };
  readonly logging: { readonly logClientIp: boolean };
  readonly routing: RoutingConfig;
  readonly referral: {
    readonly keyId: number;
    /** Decoded secret bytes; `null` = envelopes are not signed. */
    readonly hmacSecret: Uint8Array | null;
  };
  readonly messages: MessagesConfig;
  readonly limits: {
    readonly connectTimeoutMs: number;
    readonly maxConnectionsPerIp: number;
  };
  /** Plugins in execution order: by stage, then `before`/`after`, then config order. */
  readonly plugins: readonly PluginConfig[];
  /** HTTP admin endpoint (`/metrics`, `/healthz`, `/readyz`); `listen` is `null` when disabled. */
  readonly admin: { readonly listen: ListenAddress | null };
}
