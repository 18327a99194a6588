// One failing case per validation rule, each asserting the code, config path and line:col.
import assert from "node:assert/strict";
import { lines, summaries } from "./expect_errors.ts";

/** A config whose `routing.default` pool is `pool` (which starts on line 3). */
function withPool(...pool: string[]): string {
  return lines("routing:", "  default:", ...pool.map((l) => `    ${l}`));
}

/** A config whose first route is `route` (which starts on line 3, after "    - "). */
function withRoute(first: string, ...rest: string[]): string {
  return lines("routing:", "  routes:", `    - ${first}`, ...rest.map((l) => `      ${l}`));
}

const BACKENDS = "backends: [{ host: a.example.com, port: 5520 }]";

const cases: [name: string, text: string, expected: string[]][] = [
  // listen
  ["listen must not be empty", 'listen: ""\n', ["invalid listen 1:9"]],
  ["listen needs a port", 'listen: "127.0.0.1"\n', ["invalid listen 1:9"]],
  ["listen port must be numeric", 'listen: ":http"\n', ["invalid listen 1:9"]],
  ["listen port at most 65535", 'listen: ":65536"\n', ["invalid listen 1:9"]],
  ["listen IPv6 needs brackets", 'listen: "::1:5520"\n', ["invalid listen 1:9"]],
  ["listen host must be an address or name", 'listen: "bad host:5520"\n', ["invalid listen 1:9"]],
  ["listen as a number is a bare port", "listen: 5520\n", ["invalid listen 1:9"]],
  ["listen must be a scalar", "listen: [':5520']\n", ["type listen 1:9"]],
  // tls
  ["tls cert_file needs key_file", lines("tls:", "  cert_file: a.crt"), [
    "required tls.key_file 2:3",
  ]],
  ["tls key_file needs cert_file", lines("tls:", "  key_file: a.key"), [
    "required tls.cert_file 2:3",
  ]],
  ["alpn must not be empty", lines("tls:", "  alpn: []"), ["invalid tls.alpn 2:9"]],
  ["alpn null empties it", lines("tls:", "  alpn:"), ["invalid tls.alpn 2:8"]],
  ["alpn entries must not be empty", lines("tls:", "  alpn: [hytale/*, '']"), [
    "invalid tls.alpn[1] 2:20",
  ]],
  ["alpn must be a list", lines("tls:", "  alpn: hytale/*"), ["type tls.alpn 2:9"]],
  // quic, limits, durations
  ["idle timeout must be a duration", lines("quic:", "  max_idle_timeout: 30"), [
    "invalid quic.max_idle_timeout 2:21",
  ]],
  ["idle timeout unit must exist", lines("quic:", "  max_idle_timeout: 30x"), [
    "invalid quic.max_idle_timeout 2:21",
  ]],
  ["idle timeout must not be negative", lines("quic:", "  max_idle_timeout: -1s"), [
    "invalid quic.max_idle_timeout 2:21",
  ]],
  ["connect timeout must be > 0", lines("limits:", "  connect_timeout: 0s"), [
    "invalid limits.connect_timeout 2:20",
  ]],
  ["connect timeout must be a duration", lines("limits:", "  connect_timeout: soon"), [
    "invalid limits.connect_timeout 2:20",
  ]],
  ["max connections per IP >= 0", lines("limits:", "  max_connections_per_ip: -1"), [
    "invalid limits.max_connections_per_ip 2:27",
  ]],
  ["max connections per IP is an int", lines("limits:", "  max_connections_per_ip: many"), [
    "type limits.max_connections_per_ip 2:27",
  ]],
  // logging, admin
  ["log_client_ip is a bool", lines("logging:", "  log_client_ip: maybe"), [
    "type logging.log_client_ip 2:18",
  ]],
  ["admin.listen must be an address", lines("admin:", "  listen: nowhere"), [
    "invalid admin.listen 2:11",
  ]],
  ["admin.listen off loopback needs a token file", lines("admin:", '  listen: "0.0.0.0:9090"'), [
    "invalid admin.listen 2:11",
  ]],
  ["admin.listen on all interfaces needs a token file", lines("admin:", '  listen: ":9090"'), [
    "invalid admin.listen 2:11",
  ]],
  ["admin.token_file must not be empty", lines("admin:", '  token_file: ""'), [
    "invalid admin.token_file 2:15",
  ]],
  // referral
  ["key_id at most 255", lines("referral:", "  key_id: 256"), ["invalid referral.key_id 2:11"]],
  ["key_id at least 0", lines("referral:", "  key_id: -1"), ["invalid referral.key_id 2:11"]],
  ["key_id is an integer", lines("referral:", "  key_id: '1'"), ["type referral.key_id 2:11"]],
  ["hex secret must be hex", lines("referral:", "  hmac_secret: 'hex:abc'"), [
    "invalid referral.hmac_secret 2:16",
  ]],
  ["base64 secret must be base64", lines("referral:", "  hmac_secret: 'base64:a$b='"), [
    "invalid referral.hmac_secret 2:16",
  ]],
  ["an encoded secret must not be empty", lines("referral:", "  hmac_secret: 'hex:'"), [
    "invalid referral.hmac_secret 2:16",
  ]],
  // pools
  ["pool strategy is required", withPool(BACKENDS), ["required routing.default.strategy 3:5"]],
  ["pool strategy must be known", withPool("strategy: fastest", BACKENDS), [
    "invalid routing.default.strategy 3:15",
  ]],
  ["pool strategy must not be empty", withPool("strategy: ''", BACKENDS), [
    "required routing.default.strategy 3:15",
  ]],
  ["pool needs backends or discovery", withPool("strategy: random"), [
    "required routing.default 3:5",
  ]],
  ["pool backends must not be empty", withPool("strategy: random", "backends: []"), [
    "required routing.default.backends 4:15",
  ]],
  ["least_loaded requires key", withPool("strategy: least_loaded", BACKENDS), [
    "required routing.default.key 3:5",
  ]],
  ["p2c requires a non-blank key", withPool("strategy: p2c", "key: ' '", BACKENDS), [
    "required routing.default.key 4:10",
  ]],
  ["sample >= 0", withPool("strategy: p2c", "key: load", "sample: -1", BACKENDS), [
    "invalid routing.default.sample 5:13",
  ]],
  ["limit >= 0", withPool("strategy: random", "limit: -2", BACKENDS), [
    "invalid routing.default.limit 4:12",
  ]],
  ["limit is an integer", withPool("strategy: random", "limit: 1.5", BACKENDS), [
    "type routing.default.limit 4:12",
  ]],
  // backends
  ["backend host is required", withPool("strategy: random", "backends: [{ port: 1 }]"), [
    "required routing.default.backends[0].host 4:16",
  ]],
  ["backend port is required", withPool("strategy: random", "backends: [{ host: a }]"), [
    "required routing.default.backends[0].port 4:16",
  ]],
  ["backend port at least 1", withPool("strategy: random", "backends: [{ host: a, port: 0 }]"), [
    "invalid routing.default.backends[0].port 4:33",
  ]],
  [
    "backend port at most 65535",
    withPool("strategy: random", "backends: [{ host: a, port: 65536 }]"),
    ["invalid routing.default.backends[0].port 4:33"],
  ],
  [
    "backend port is not a string",
    withPool("strategy: random", "backends: [{ host: a, port: '5520' }]"),
    ["type routing.default.backends[0].port 4:33"],
  ],
  [
    "backend weight >= 0",
    withPool("strategy: random", "backends: [{ host: a, port: 1, weight: -1 }]"),
    ["invalid routing.default.backends[0].weight 4:44"],
  ],
  [
    "weighted needs weight > 0",
    withPool("strategy: weighted", "backends: [{ host: a, port: 1, weight: 0 }]"),
    ["invalid routing.default.backends[0].weight 4:44"],
  ],
  ["weighted needs a weight", withPool("strategy: weighted", "backends: [{ host: a, port: 1 }]"), [
    "invalid routing.default.backends[0].weight 4:16",
  ]],
  [
    "meta values are scalars",
    withPool("strategy: random", "backends: [{ host: a, port: 1, meta: { a: [1] } }]"),
    ["type routing.default.backends[0].meta.a 4:47"],
  ],
  ["a backend is a mapping", withPool("strategy: random", "backends: [a.example.com]"), [
    "type routing.default.backends[0] 4:16",
  ]],
  ["a null backend is reported", withPool("strategy: random", "backends: [~]"), [
    "type routing.default.backends[0] 4:16",
  ]],
  // sort
  ["sort key is required", withPool("strategy: random", "sort: [{ order: asc }]", BACKENDS), [
    "required routing.default.sort[0].key 4:12",
  ]],
  [
    "sort order is asc or desc",
    withPool("strategy: random", "sort: [{ key: k, order: dsc }]", BACKENDS),
    ["invalid routing.default.sort[0].order 4:29"],
  ],
  [
    "sort type is string or number",
    withPool("strategy: random", "sort: [{ key: k, type: int }]", BACKENDS),
    ["invalid routing.default.sort[0].type 4:28"],
  ],
  // filters
  ["filter type is required", withPool("strategy: random", "filters: [{ key: k }]", BACKENDS), [
    "required routing.default.filters[0].type 4:15",
  ]],
  [
    "filter type must be known",
    withPool("strategy: random", "filters: [{ type: comparee }]", BACKENDS),
    ["invalid routing.default.filters[0].type 4:23"],
  ],
  [
    "compare needs left",
    withPool("strategy: random", "filters: [{ type: compare, op: lt, right: b }]", BACKENDS),
    ["required routing.default.filters[0].left 4:15"],
  ],
  [
    "compare needs right",
    withPool("strategy: random", "filters: [{ type: compare, left: a, op: lt }]", BACKENDS),
    ["required routing.default.filters[0].right 4:15"],
  ],
  [
    "compare op must be known",
    withPool(
      "strategy: random",
      "filters: [{ type: compare, left: a, op: le, right: b }]",
      BACKENDS,
    ),
    ["invalid routing.default.filters[0].op 4:45"],
  ],
  [
    "compare op is required",
    withPool("strategy: random", "filters: [{ type: compare, left: a, right: b }]", BACKENDS),
    ["required routing.default.filters[0].op 4:15"],
  ],
  [
    "whitelist needs enabled_key",
    withPool("strategy: random", "filters: [{ type: whitelist, list_key: l }]", BACKENDS),
    ["required routing.default.filters[0].enabled_key 4:15"],
  ],
  [
    "whitelist needs list_key",
    withPool("strategy: random", "filters: [{ type: whitelist, enabled_key: e }]", BACKENDS),
    ["required routing.default.filters[0].list_key 4:15"],
  ],
  [
    "whitelist subject is uuid or username",
    withPool(
      "strategy: random",
      "filters: [{ type: whitelist, enabled_key: e, list_key: l, subject: email }]",
      BACKENDS,
    ),
    ["invalid routing.default.filters[0].subject 4:72"],
  ],
  [
    "game_start_not_past needs key",
    withPool("strategy: random", "filters: [{ type: game_start_not_past }]", BACKENDS),
    ["required routing.default.filters[0].key 4:15"],
  ],
  [
    "a filter only takes its type's keys",
    withPool(
      "strategy: random",
      "filters: [{ type: game_start_not_past, key: k, left: a }]",
      BACKENDS,
    ),
    ["unknown_key routing.default.filters[0].left 4:52"],
  ],
  // fallback
  [
    "fallback strategy must be known",
    withPool("strategy: random", "fallback: [{ strategy: rr }]", BACKENDS),
    ["invalid routing.default.fallback[0].strategy 4:28"],
  ],
  [
    "fallback to p2c needs a key",
    withPool("strategy: random", "fallback: [{ strategy: p2c }]", BACKENDS),
    ["required routing.default.fallback[0].key 4:16"],
  ],
  ["fallback sample >= 0", withPool("strategy: random", "fallback: [{ sample: -1 }]", BACKENDS), [
    "invalid routing.default.fallback[0].sample 4:26",
  ]],
  ["fallback limit >= 0", withPool("strategy: random", "fallback: [{ limit: -1 }]", BACKENDS), [
    "invalid routing.default.fallback[0].limit 4:25",
  ]],
  [
    "fallback filters are checked",
    withPool("strategy: random", "fallback: [{ filters: [{ type: compare }] }]", BACKENDS),
    [
      "required routing.default.fallback[0].filters[0].left 4:28",
      "required routing.default.fallback[0].filters[0].op 4:28",
      "required routing.default.fallback[0].filters[0].right 4:28",
    ],
  ],
  [
    "fallback takes no backends",
    withPool("strategy: random", "fallback: [{ backends: [] }]", BACKENDS),
    ["unknown_key routing.default.fallback[0].backends 4:18"],
  ],
  // pool discovery
  [
    "discovery provider must be configured",
    withPool("strategy: random", "discovery: { provider: agones }"),
    ["reference routing.default.discovery.provider 4:28"],
  ],
  ["discovery provider is required", withPool("strategy: random", "discovery: { mode: union }"), [
    "required routing.default.discovery.provider 4:16",
  ]],
  [
    "discovery mode is union or prefer",
    withPool("strategy: random", "discovery: { provider: a, mode: both }"),
    [
      "reference routing.default.discovery.provider 4:28",
      "invalid routing.default.discovery.mode 4:37",
    ],
  ],
  // routes
  ["a route needs match", withRoute("pool: { strategy: random, " + BACKENDS + " }"), [
    "required routing.routes[0].match 3:7",
  ]],
  ["a route needs a pool", withRoute("match: { hostname: a.example.com }"), [
    "required routing.routes[0].pool 3:7",
  ]],
  [
    "a route needs a hostname pattern",
    withRoute("match: {}", "pool: { strategy: random, " + BACKENDS + " }"),
    ["required routing.routes[0].match 3:14"],
  ],
  [
    "an empty hostnames list is no pattern",
    withRoute("match: { hostnames: [] }", "pool: { strategy: random, " + BACKENDS + " }"),
    ["required routing.routes[0].match 3:14"],
  ],
  [
    "hostname patterns must not be empty",
    withRoute(
      "match: { hostnames: [a.com, ' . '] }",
      "pool: { strategy: random, " + BACKENDS + " }",
    ),
    ["invalid routing.routes[0].match.hostnames[1] 3:35"],
  ],
  [
    "an unclosed [ is refused",
    withRoute(
      "match: { hostname: 'a[bc.example.com' }",
      "pool: { strategy: random, " + BACKENDS + " }",
    ),
    ["invalid routing.routes[0].match.hostname 3:26"],
  ],
  [
    "a trailing backslash is refused",
    withRoute(
      "match: { hostnames: ['a.example.com\\'] }",
      "pool: { strategy: random, " + BACKENDS + " }",
    ),
    ["invalid routing.routes[0].match.hostnames[0] 3:28"],
  ],
  [
    "an empty class is refused",
    withRoute(
      "match: { hostname: '[]x.example.com' }",
      "pool: { strategy: random, " + BACKENDS + " }",
    ),
    ["invalid routing.routes[0].match.hostname 3:26"],
  ],
  ["routes must be a list", lines("routing:", "  routes: {}"), ["type routing.routes 2:11"]],
  ["a null route is reported", lines("routing:", "  routes: [~]"), ["type routing.routes[0] 2:12"]],
  // messages
  ["message texts are strings", lines("messages:", "  disconnect:", "    no_route: [a]"), [
    "type messages.disconnect.no_route 3:15",
  ]],
  [
    "locale keys must be unique after normalising",
    lines("messages:", "  disconnect_locales:", "    pt_BR: {}", "    pt-br: {}"),
    ["invalid messages.disconnect_locales.pt-br 4:5"],
  ],
  [
    "locale entries take only the four texts",
    lines("messages:", "  disconnect_locales:", "    de: { no_rout: x }"),
    ["unknown_key messages.disconnect_locales.de.no_rout 3:11"],
  ],
  // not yet supported
  ["a plugin needs a type", lines("plugins:", "  - name: a"), ["required plugins[0].type 2:5"]],
  [
    "plugin types are grpc or wasm",
    lines("plugins:", "  - { name: a, type: lua }"),
    ["invalid plugins[0].type 2:22"],
  ],
  [
    "a grpc plugin needs grpc.address",
    lines("plugins:", "  - { name: a, type: grpc, grpc: {} }"),
    ["required plugins[0].grpc.address 2:34"],
  ],
  [
    "a grpc address is HOST:PORT",
    lines("plugins:", "  - { name: a, type: grpc, grpc: { address: nowhere } }"),
    ["invalid plugins[0].grpc.address 2:45"],
  ],
  [
    "a wasm plugin needs wasm.path",
    lines("plugins:", "  - { name: a, type: wasm }"),
    ["required plugins[0].wasm 2:5"],
  ],
  [
    "durations longer than a timer can wait are refused",
    lines("limits:", "  connect_timeout: 1000h"),
    ["invalid limits.connect_timeout 2:20"],
  ],
  [
    "a wasm sha256 pin is 64 hex digits",
    lines("plugins:", "  - { name: a, type: wasm, wasm: { path: a.wasm, sha256: abc } }"),
    ["invalid plugins[0].wasm.sha256 2:58"],
  ],
  [
    "max_memory is a size",
    lines("plugins:", "  - { name: a, type: wasm, wasm: { path: a.wasm, max_memory: lots } }"),
    ["invalid plugins[0].wasm.max_memory 2:62"],
  ],
  [
    "plugin names are unique",
    lines(
      "plugins:",
      "  - { name: a, type: grpc, grpc: { address: 127.0.0.1:1 } }",
      "  - { name: a, type: grpc, grpc: { address: 127.0.0.1:2 } }",
    ),
    ["invalid plugins[1].name 3:7"],
  ],
  [
    "before/after name existing plugins",
    lines(
      "plugins:",
      "  - { name: alpha, type: grpc, grpc: { address: 127.0.0.1:1 }, after: [alpah] }",
    ),
    ["reference plugins[0].after 2:64"],
  ],
  [
    "a before/after cycle in one stage is an error naming the stage",
    lines(
      "plugins:",
      "  - { name: a, type: grpc, grpc: { address: 127.0.0.1:1 }, before: [b] }",
      "  - { name: b, type: grpc, grpc: { address: 127.0.0.1:2 }, before: [a] }",
    ),
    ["invalid plugins[0] 2:5"],
  ],
  [
    "timeout and failure_policy are validated",
    lines(
      "plugins:",
      "  - { name: a, type: grpc, grpc: { address: 127.0.0.1:1 }, timeout: 5, failure_policy: stop }",
    ),
    ["invalid plugins[0].timeout 2:69", "invalid plugins[0].failure_policy 2:88"],
  ],
  [
    "transport settings of the other type are a mistake",
    lines(
      "plugins:",
      "  - { name: a, type: grpc, grpc: { address: 127.0.0.1:1 }, wasm: { path: x } }",
    ),
    ["invalid plugins[0].wasm 2:60"],
  ],
  // structure
  ["the document must be a mapping", "- listen\n", ["type  1:1"]],
  ["sections must be mappings", "tls: yes\n", ["type tls 1:6"]],
];

for (const [name, text, expected] of cases) {
  Deno.test(`rejects: ${name}`, () => {
    assert.deepEqual(summaries(text), expected, text);
  });
}
