import { resolve } from "node:path";
import { parseListenAddress } from "./address.ts";
import { MAX_TIMER_MS, parseDuration } from "./duration.ts";
import { parseHmacSecret, ProtocolError } from "../protocol/mod.ts";
import { ConfigError } from "./errors.ts";
import type { Obj, Reader } from "./fields.ts";
import type { Position } from "./errors.ts";
import type { Node } from "./nodes.ts";
import type { Config, ListenAddress } from "./types.ts";

/** The top-level settings other than routing and messages. */
export type Settings = Pick<
  Config,
  "listen" | "tls" | "quic" | "logging" | "referral" | "limits" | "admin"
>;

const DEFAULT_LISTEN = ":5520";
const DEFAULT_ALPN = ["hytale/*"];
const DEFAULT_IDLE_TIMEOUT_MS = 30_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
const DEFAULT_ADMIN_LISTEN = "127.0.0.1:9090";
const ADMIN_KEYS = ["listen", "token_file", "state_file", "state_config_map"];
const LIMIT_KEYS = [
  "connect_timeout",
  "max_connections_per_ip",
  "ipv4_prefix",
  "ipv6_prefix",
  "handshake_rate",
  "max_connections",
  "ipv6_subnet",
];
/** Defaults of the admission limits (README, operating notes). */
const DEFAULT_LIMITS = {
  maxConnectionsPerIp: 32,
  ipv4Prefix: 32,
  ipv6Prefix: 64,
  handshakeRate: { perSecond: 20, burst: 40 },
  maxConnections: 10_000,
  ipv6Subnet: { prefix: 48, maxConnections: 1_024 },
};

/**
 * Where values that the loader checks after parsing were written (`loadConfig` reads the admin
 * token file and names this position when it cannot), filled in by {@link readSettings}.
 */
export interface SettingsPositions {
  tokenFile?: Position;
}

/**
 * Reads `listen`, `tls`, `quic`, `logging`, `referral`, `limits` and `admin`. `configDir` is
 * what relative file paths (`admin.token_file`) resolve against.
 */
export function readSettings(
  r: Reader,
  root: Obj | undefined,
  configDir: string,
  positions: SettingsPositions = {},
): Settings {
  const section = (key: string, keys: readonly string[]) => r.object(root?.get(key), key, keys);
  return {
    listen: readListen(r, root?.get("listen"), "listen") ?? ALL_5520,
    tls: readTls(r, section("tls", ["cert_file", "key_file", "alpn"])),
    quic: readQuic(r, section("quic", ["max_idle_timeout"])),
    logging: readLogging(r, section("logging", ["log_client_ip"])),
    referral: readReferral(r, section("referral", ["key_id", "hmac_secret"])),
    limits: readLimits(r, section("limits", LIMIT_KEYS)),
    admin: readAdmin(r, section("admin", ADMIN_KEYS), configDir, positions),
  };
}

const ALL_5520 = parseOk(DEFAULT_LISTEN);

function parseOk(text: string): ListenAddress {
  const parsed = parseListenAddress(text);
  if (!parsed.ok) throw new Error(`bad built-in address ${text}`);
  return parsed.address;
}

/** A listen address; `""` is refused unless `emptyMeansOff`, which turns it into `null`. */
function readListen(
  r: Reader,
  node: Node | undefined,
  path: string,
  emptyMeansOff = false,
): ListenAddress | null | undefined {
  const text = r.string(node, path);
  if (text === undefined || node === undefined) return undefined;
  if (text === "" && emptyMeansOff) return null;
  if (text === "") return r.report("invalid", path, node.position, "must not be empty");
  const parsed = parseListenAddress(text);
  if (parsed.ok) return parsed.address;
  return r.report(
    "invalid",
    path,
    node.position,
    `invalid address ${JSON.stringify(text)}: ${parsed.problem}`,
  );
}

function readTls(r: Reader, obj: Obj | undefined): Settings["tls"] {
  const file = (key: string) => (obj && r.string(obj.get(key), obj.at(key))) || null;
  const certFile = file("cert_file");
  const keyFile = file("key_file");
  if (obj && (certFile === null) !== (keyFile === null)) {
    const [missing, given] = certFile === null
      ? ["cert_file", "key_file"]
      : ["key_file", "cert_file"];
    r.report("required", obj.at(missing), obj.node.position, `required when tls.${given} is set`);
  }
  return { certFile, keyFile, alpn: readAlpn(r, obj) };
}

function readAlpn(r: Reader, obj: Obj | undefined): readonly string[] {
  const node = obj?.get("alpn");
  if (obj === undefined || node === undefined) return DEFAULT_ALPN;
  // An explicit null empties the list in Go too, which Hyrouter then rejects.
  const alpn = node.kind === "null" ? [] : r.strings(node, obj.at("alpn"));
  if (alpn?.length === 0) r.report("invalid", obj.at("alpn"), node.position, "must not be empty");
  return alpn ?? DEFAULT_ALPN;
}

function readQuic(r: Reader, obj: Obj | undefined): Settings["quic"] {
  const node = obj?.get("max_idle_timeout");
  const ms = obj && readDuration(r, node, obj.at("max_idle_timeout"), true);
  // Hyrouter treats "" as unset, and quic-go turns 0 into its default (30s).
  return { maxIdleTimeoutMs: ms === undefined || ms === 0 ? DEFAULT_IDLE_TIMEOUT_MS : ms };
}

/** A Go duration string in ms; `""` is unset. Negative is refused, zero unless `allowZero`. */
function readDuration(
  r: Reader,
  node: Node | undefined,
  path: string,
  allowZero: boolean,
): number | undefined {
  const text = r.string(node, path);
  if (text === undefined || text === "" || node === undefined) return undefined;
  let ms: number;
  try {
    ms = parseDuration(text);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const hint = /^[0-9.]+$/.test(text) ? `write a unit, e.g. "${text}s" or "${text}ms"` : null;
    return r.report("invalid", path, node.position, e.message, hint);
  }
  if (ms > MAX_TIMER_MS) {
    return r.report(
      "invalid",
      path,
      node.position,
      `must be at most ${MAX_TIMER_MS} ms (~24.8 days)`,
    );
  }
  if (ms > 0 || (ms === 0 && allowZero)) return ms;
  return r.report(
    "invalid",
    path,
    node.position,
    `must be greater than 0, got ${JSON.stringify(text)}`,
  );
}

function readLogging(r: Reader, obj: Obj | undefined): Settings["logging"] {
  return {
    logClientIp: (obj && r.bool(obj.get("log_client_ip"), obj.at("log_client_ip"))) ?? true,
  };
}

function readReferral(r: Reader, obj: Obj | undefined): Settings["referral"] {
  const keyId = (obj && r.int(obj.get("key_id"), obj.at("key_id"), 0, 255)) ?? 0;
  const node = obj?.get("hmac_secret");
  const text = obj && r.string(node, obj.at("hmac_secret"));
  // A blank secret means "do not sign", as an empty secret does in Hyrouter's envelope encoder.
  if (obj === undefined || node === undefined || text === undefined || text.trim() === "") {
    return { keyId, hmacSecret: null };
  }
  try {
    return { keyId, hmacSecret: parseHmacSecret(text) };
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
    // The protocol's message starts with the field name, which the config error already shows.
    const problem = err.message.replace(/^referral\.hmac_secret: /, "");
    r.report("invalid", obj.at("hmac_secret"), node.position, `invalid secret: ${problem}`);
    return { keyId, hmacSecret: null };
  }
}

function readLimits(r: Reader, obj: Obj | undefined): Settings["limits"] {
  const timeout = obj &&
    readDuration(r, obj.get("connect_timeout"), obj.at("connect_timeout"), false);
  const int = (key: string, max?: number) => obj && r.int(obj.get(key), obj.at(key), 0, max);
  const rate = r.object(obj?.get("handshake_rate"), "limits.handshake_rate", [
    "per_second",
    "burst",
  ]);
  const ipv6Prefix = int("ipv6_prefix", 128) ?? DEFAULT_LIMITS.ipv6Prefix;
  return {
    connectTimeoutMs: timeout ?? DEFAULT_CONNECT_TIMEOUT_MS,
    maxConnectionsPerIp: int("max_connections_per_ip") ?? DEFAULT_LIMITS.maxConnectionsPerIp,
    ipv4Prefix: int("ipv4_prefix", 32) ?? DEFAULT_LIMITS.ipv4Prefix,
    ipv6Prefix,
    handshakeRate: {
      // 0 turns the bucket off; a burst below 1 would refuse every connection.
      perSecond: (rate && r.int(rate.get("per_second"), rate.at("per_second"))) ??
        DEFAULT_LIMITS.handshakeRate.perSecond,
      burst: (rate && r.int(rate.get("burst"), rate.at("burst"), 1)) ??
        DEFAULT_LIMITS.handshakeRate.burst,
    },
    maxConnections: int("max_connections") ?? DEFAULT_LIMITS.maxConnections,
    ipv6Subnet: readIpv6Subnet(r, obj, ipv6Prefix),
  };
}

/**
 * `limits.ipv6_subnet: {prefix, max_connections}`: one IPv6 subscriber often holds a /56 or a
 * /48 — 256 or 65,536 client prefixes of /64 — so without a wider limit one subscriber could fill
 * `max_connections`. The subnet may not be narrower than the client prefix it groups.
 */
function readIpv6Subnet(r: Reader, limits: Obj | undefined, ipv6Prefix: number) {
  const obj = r.object(limits?.get("ipv6_subnet"), "limits.ipv6_subnet", [
    "prefix",
    "max_connections",
  ]);
  const defaults = DEFAULT_LIMITS.ipv6Subnet;
  const node = obj?.get("prefix");
  let prefix = (obj && r.int(node, obj.at("prefix"), 0, 128)) ?? defaults.prefix;
  if (prefix > ipv6Prefix) {
    if (obj && node !== undefined) {
      r.report(
        "invalid",
        obj.at("prefix"),
        node.position,
        `/${prefix} is narrower than limits.ipv6_prefix (/${ipv6Prefix}): a subnet must group ` +
          `client prefixes`,
      );
    }
    prefix = ipv6Prefix;
  }
  const max = obj && r.int(obj.get("max_connections"), obj.at("max_connections"), 0);
  return { prefix, maxConnections: max ?? defaults.maxConnections };
}

function readAdmin(
  r: Reader,
  obj: Obj | undefined,
  configDir: string,
  positions: SettingsPositions,
): Settings["admin"] {
  const read = obj && readListen(r, obj.get("listen"), obj.at("listen"), true);
  const listen = read === undefined ? parseOk(DEFAULT_ADMIN_LISTEN) : read;
  const fileNode = obj?.get("token_file");
  const file = obj && r.string(fileNode, obj.at("token_file"));
  if (fileNode !== undefined && file === "") {
    r.report("invalid", "admin.token_file", fileNode.position, "must not be empty");
  }
  const tokenFile = file ? resolve(configDir, file) : null;
  if (tokenFile !== null && fileNode !== undefined) positions.tokenFile = fileNode.position;
  if (listen !== null && tokenFile === null && !isLoopback(listen.hostname)) {
    const node = obj?.get("listen");
    r.report(
      "invalid",
      "admin.listen",
      node?.position ?? null,
      `${listen.hostname} is not a loopback address: set admin.token_file so the admin API ` +
        "needs a bearer token",
    );
  }
  const stateFile = readStateFile(r, obj, configDir);
  const stateConfigMap = readStateConfigMap(r, obj);
  if (obj && stateFile !== null && stateConfigMap !== null) {
    r.report(
      "invalid",
      "admin.state_config_map",
      obj.keyPosition("state_config_map"),
      "admin.state_file and admin.state_config_map are mutually exclusive: set one",
    );
  }
  return { listen, tokenFile, token: null, stateFile, stateConfigMap };
}

/** `admin.state_file`: a path, relative to the config file's folder as `token_file` is. */
function readStateFile(r: Reader, obj: Obj | undefined, configDir: string): string | null {
  const node = obj?.get("state_file");
  const file = obj && r.string(node, obj.at("state_file"));
  if (node === undefined || file === undefined) return null;
  if (file.trim() === "") {
    return r.report("invalid", "admin.state_file", node.position, "must not be empty") ?? null;
  }
  if (file.includes(",")) {
    r.report(
      "invalid",
      "admin.state_file",
      node.position,
      "must not contain a comma (it cannot be granted to the router)",
    );
    return null;
  }
  return resolve(configDir, file.trim());
}

// Kubernetes object names: a DNS subdomain (ConfigMap) and a DNS label (namespace).
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** `admin.state_config_map: {name, namespace, kubeconfig}`; `kubeconfig: ""` = in-cluster. */
function readStateConfigMap(
  r: Reader,
  admin: Obj | undefined,
): Settings["admin"]["stateConfigMap"] {
  const obj = r.object(admin?.get("state_config_map"), "admin.state_config_map", [
    "name",
    "namespace",
    "kubeconfig",
  ]);
  if (obj === undefined) return null;
  const name = r.text(obj, "name");
  const namespace = r.text(obj, "namespace");
  const check = (
    value: string | undefined,
    key: string,
    pattern: RegExp,
    max: number,
    what: string,
  ) => {
    if (value === undefined) return false;
    if (value.length <= max && pattern.test(value)) return true;
    r.report(
      "invalid",
      obj.at(key),
      obj.get(key)?.position ?? null,
      `${JSON.stringify(value)} is not ${what}`,
    );
    return false;
  };
  const nameOk = check(
    name,
    "name",
    DNS_SUBDOMAIN,
    253,
    "a Kubernetes object name (lower-case letters, digits, - and .)",
  );
  const nsOk = check(
    namespace,
    "namespace",
    DNS_LABEL,
    63,
    "a Kubernetes namespace name (lower-case letters, digits and -)",
  );
  const kubeconfig = r.string(obj.get("kubeconfig"), obj.at("kubeconfig"))?.trim() ?? "";
  if (!nameOk || !nsOk || name === undefined || namespace === undefined) return null;
  return { name, namespace, kubeconfig: kubeconfig === "" ? null : kubeconfig };
}

/** 127.0.0.0/8, `::1` and `localhost`: only this host can reach an address bound there. */
function isLoopback(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, "");
  return host === "localhost" || host === "::1" || /^127\.[0-9.]+$/.test(host);
}
