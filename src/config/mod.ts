/**
 * Loading Gatehouse configuration: YAML or JSON files in Hyrouter's schema (plus this project's
 * additions), validated strictly and turned into readonly, typed, normalised values.
 *
 * @module
 */

import { parseConfig as parse } from "./load.ts";
import { loadConfig as load } from "./load.ts";
import { parseDuration as duration } from "./duration.ts";

/**
 * IP address text → 32-bit words without allocating (the router parses every client address
 * with it), and the IPv4-mapped test; `access` CIDRs use them too.
 */
export { type IpFamily, isV4Mapped, parseIpAddress } from "./ip_address.ts";
/** Masks one 32-bit word of an address to a prefix length (`access` CIDR matching). */
export { maskWord } from "./cidr.ts";

/**
 * Host names as the Go router reads them: the canonical form of an SNI or hostname pattern,
 * Go's `path.Match` patterns compiled to matchers (routing matches SNIs with the same code the
 * loader validates patterns with), and Go's `strings.TrimSpace`.
 */
export { canonicalHost, compileHostPattern, type HostMatcher } from "./host_pattern.ts";
export { goTrimSpace } from "./go_trim_space.ts";

/**
 * How a client's language picks a locale (`localeKey` normalises a key, `selectLocale` finds
 * the exact locale or its base language): shared by every player-facing text.
 */
export { localeKey, selectLocale } from "./locale.ts";

/**
 * Maintenance mode: the defaults, the validator both the config loader and the admin API's
 * `PUT /api/v1/maintenance` use (`parseMaintenance`, errors naming the field such as
 * `bypass[2]`), and the JSON form the API shows.
 */
export {
  DEFAULT_MAINTENANCE,
  DEFAULT_MAINTENANCE_MESSAGE,
  maintenanceJson,
  parseMaintenance,
} from "./maintenance.ts";

/** `host:port` text → host and port, or why it is not one (Go's `net.SplitHostPort` rules). */
export { type ParsedAddress, parseListenAddress } from "./address.ts";

/** The longest timeout a timer can wait (2^31−1 ms); config and CLI durations are capped to it. */
export { MAX_TIMER_MS } from "./duration.ts";
import type { Config } from "./types.ts";

/**
 * The closed sets of names the config accepts, each the one definition of its type
 * (`StrategyName` is `typeof STRATEGY_NAMES[number]`, and so on).
 */
export {
  COMPARE_OPS,
  DISCOVERY_PROVIDER_TYPES,
  FAILURE_POLICIES,
  PLUGIN_STAGES,
  PLUGIN_TYPES,
  STRATEGY_NAMES,
  WASM_ISOLATIONS,
} from "./types.ts";

/** The typed shape of a loaded configuration (see `types.ts` for each part). */
export type {
  AccessConfig,
  AgonesDiscoveryConfig,
  AnnotationRequirement,
  Backend,
  BypassEntry,
  CidrRange,
  CompareOp,
  Config,
  DisconnectKind,
  DisconnectMessages,
  DiscoveryMetadataConfig,
  DiscoveryPortConfig,
  DiscoveryProviderConfig,
  FailurePolicy,
  FallbackConfig,
  FilterConfig,
  GrpcPluginConfig,
  KubernetesDiscoveryConfig,
  KubernetesResourceConfig,
  LabelRequirement,
  LimitsConfig,
  ListenAddress,
  MaintenanceConfig,
  MessagesConfig,
  ObjectSelector,
  PluginBase,
  PluginConfig,
  PluginDiscoveryConfig,
  PluginStage,
  PluginType,
  PoolConfig,
  PoolDiscoveryConfig,
  ProcessPermissions,
  ProcessPluginConfig,
  RouteConfig,
  RoutingConfig,
  SortKeyConfig,
  StateConfigMapConfig,
  StrategyName,
  WasmIsolation,
  WasmPluginConfig,
} from "./types.ts";

/**
 * Errors: {@link ConfigError} is one problem located by config path and line:column (message
 * like `config.yaml:12:7 routing.routes[2].pool.strategy: unknown strategy "round_robbin" (did
 * you mean "round_robin"?)`); {@link ConfigErrors} carries all problems of one file.
 */
export { ConfigError, type ConfigErrorCode, ConfigErrors } from "./errors.ts";

/**
 * Reads the config file at `path` and parses it with {@link parseConfig}. The extension
 * (`.yaml`, `.yml`, `.json`, any case) picks the format and is checked before reading. The
 * result carries the config's fingerprint (`config.sha256`: sha256 of the parsed config with
 * secrets replaced by a marker; `null` from {@link parseConfig}).
 *
 * @param fs where to read from; defaults to `Deno` (tests pass a fake).
 * @throws {ConfigErrors} when the file cannot be read or is not a valid config.
 */
export function loadConfig(
  path: string,
  fs?: { readTextFile(p: string): Promise<string> },
): Promise<Config> {
  return fs === undefined ? load(path) : load(path, fs);
}

/**
 * Parses and validates config text. `source` names the file for messages and its extension
 * picks YAML or JSON. Unknown keys, wrong types and invalid values are errors; all of them are
 * collected and thrown together. Defaults, normalisation and the built-in message translations
 * match Hyrouter, so any config Hyrouter accepts means the same here unless it is invalid
 * by this stricter reading. The result is deeply frozen.
 *
 * @throws {ConfigErrors} every problem found, sorted by position.
 */
export function parseConfig(text: string, source: string): Config {
  return parse(text, source);
}

/**
 * Parses a Go duration string (`250ms`, `1.5s`, `1h30m`, `-2m`, `0`) into milliseconds, with
 * the semantics of Go's `time.ParseDuration`.
 *
 * @throws {ConfigError} code `invalid` for text Go would reject, such as `5` or `5x`.
 */
export function parseDuration(text: string): number {
  return duration(text);
}

/**
 * Whether a mapping key (config spelling or typed field name) names a secret, and the marker
 * written instead of its value: backend `meta` shown by the admin API hides such values as the
 * fingerprint does.
 */
export { isSecretKey, REDACTED } from "./secrets.ts";
