// How values convert and normalise: the rules Hyrouter's decoders (Go yaml.v3, encoding/json)
// apply, plus the normalisation done once at load.
import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/mod.ts";
import { lines, summaries } from "./expect_errors.ts";

function pool(text: string, source = "c.yaml") {
  const config = parseConfig(text, source);
  assert.ok(config.routing.default);
  return config.routing.default;
}

Deno.test("YAML: string fields take any scalar as written (meta: {slots: 10})", () => {
  const p = pool(lines(
    "routing:",
    "  default:",
    "    strategy: random",
    "    backends:",
    "      - host: 10.0.0.1",
    "        port: 5520",
    "        meta: { slots: 10, ratio: 1.50, ready: true, tag: yes, none: ~, '': x }",
  ));
  assert.deepEqual({ ...p.backends[0]?.meta }, {
    slots: "10",
    ratio: "1.50",
    ready: "true",
    tag: "yes",
    none: "",
    "": "x",
  });
  assert.equal(p.backends[0]?.host, "10.0.0.1");
});

Deno.test("YAML: integers in Go's notations; fractions and quoted numbers are refused", () => {
  const port = (v: string) =>
    pool(`routing: { default: { strategy: random, backends: [{ host: a, port: ${v} }] } }\n`)
      .backends[0]?.port;
  assert.equal(port("0x15B0"), 5552);
  assert.equal(port("0o12600"), 5504);
  assert.equal(port("012600"), 5504);
  assert.equal(port("0b1010110010000"), 5520);
  assert.equal(port("5_520"), 5520);
  assert.equal(port("+5520"), 5520);
  assert.equal(port("5520.0"), 5520);
  assert.equal(port("5.52e3"), 5520);
  const refuse = (v: string) =>
    summaries(`routing: { default: { strategy: random, backends: [{ host: a, port: ${v} }] } }\n`);
  assert.deepEqual(refuse("5520.5"), ["type routing.default.backends[0].port 1:69"]);
  assert.deepEqual(refuse("'5520'"), ["type routing.default.backends[0].port 1:69"]);
  assert.deepEqual(refuse(".inf"), ["type routing.default.backends[0].port 1:69"]);
});

Deno.test("YAML: booleans include the YAML 1.1 words yaml.v3 accepts for bool fields", () => {
  const logs = (v: string) =>
    parseConfig(`logging: { log_client_ip: ${v} }\n`, "c.yaml").logging.logClientIp;
  for (const v of ["true", "True", "TRUE", "yes", "Yes", "on", "ON", "y", "'yes'"]) {
    assert.equal(logs(v), true, v);
  }
  for (const v of ["false", "False", "no", "NO", "off", "n", "'off'"]) {
    assert.equal(logs(v), false, v);
  }
  assert.equal(logs("~"), true, "null keeps the default");
  assert.deepEqual(summaries("logging: { log_client_ip: 'true' }\n"), [
    "type logging.log_client_ip 1:27",
  ]);
  assert.deepEqual(summaries("logging: { log_client_ip: 1 }\n"), [
    "type logging.log_client_ip 1:27",
  ]);
});

Deno.test("null means unset: defaults stay", () => {
  const config = parseConfig(
    lines("listen: ~", "tls: ~", "routing:", "referral:", "messages: { disconnect: ~ }"),
    "c.yaml",
  );
  assert.deepEqual(config.listen, { hostname: "::", port: 5520 });
  assert.deepEqual(config.tls.alpn, ["hytale/*"]);
  assert.deepEqual(config.routing, { default: null, routes: [] });
  assert.equal(config.messages.disconnect.no_route, "The server is currently unavailable.");
});

Deno.test("YAML anchors, aliases and merge keys work as in yaml.v3", () => {
  const config = parseConfig(
    lines(
      "routing:",
      "  default: &pool",
      "    strategy: round_robin",
      "    backends:",
      "      - { host: a, port: 1 }",
      "  routes:",
      "    - match: { hostname: a.example.com }",
      "      pool: *pool",
      "    - match: { hostname: b.example.com }",
      "      pool:",
      "        <<: *pool",
      "        strategy: random",
      "    - match: { hostname: c.example.com }",
      "      pool: { strategy: weighted, backends: [{ <<: { host: c, port: 3, weight: 9 }, weight: 2 }] }",
    ),
    "c.yaml",
  );
  const [a, b, c] = config.routing.routes;
  assert.deepEqual(a?.pool, config.routing.default);
  assert.equal(b?.pool.strategy, "random");
  assert.deepEqual(b?.pool.backends, config.routing.default?.backends);
  assert.deepEqual(c?.pool.backends, [{ host: "c", port: 3, weight: 2, meta: null }]);
});

Deno.test("an error inside an aliased pool is reported for each use, at the anchored text", () => {
  const text = lines(
    "routing:",
    "  default: &pool",
    "    strategy: round_robbin",
    "    backends: [{ host: a, port: 1 }]",
    "  routes:",
    "    - match: { hostname: a.example.com }",
    "      pool: *pool",
  );
  assert.deepEqual(summaries(text), [
    "invalid routing.default.strategy 3:15",
    "invalid routing.routes[0].pool.strategy 3:15",
  ]);
});

Deno.test("alias loops and merges of non-mappings are syntax errors", () => {
  assert.deepEqual(summaries("routing: &r { default: *r }\n").map((s) => s.split(" ")[0]), [
    "syntax",
  ]);
  assert.deepEqual(summaries("tls: { <<: [1] }\n").map((s) => s.split(" ")[0]), ["syntax"]);
});

Deno.test("JSON: types must match exactly, as in encoding/json", () => {
  const json = (backend: string) =>
    `{"routing": {"default": {"strategy": "random", "backends": [${backend}]}}}`;
  assert.deepEqual(summaries(json('{"host": "a", "port": "5520"}'), "c.json"), [
    "type routing.default.backends[0].port 1:83",
  ]);
  assert.deepEqual(summaries(json('{"host": 10, "port": 1}'), "c.json"), [
    "type routing.default.backends[0].host 1:70",
  ]);
  assert.deepEqual(summaries(json('{"host": "a", "port": 1, "meta": {"slots": 10}}'), "c.json"), [
    "type routing.default.backends[0].meta.slots 1:104",
  ]);
  assert.deepEqual(summaries('{"logging": {"log_client_ip": "yes"}}', "c.json"), [
    "type logging.log_client_ip 1:31",
  ]);
  assert.equal(
    pool(json('{"host": "a", "port": 1, "meta": {"n": null}}'), "c.json").backends[0]?.meta?.n,
    "",
  );
});

Deno.test("JSON: keys match case-insensitively, as in encoding/json", () => {
  const config = parseConfig('{"Listen": "127.0.0.1:1", "TLS": {"ALPN": ["hytale/2"]}}', "c.json");
  assert.deepEqual(config.listen, { hostname: "127.0.0.1", port: 1 });
  assert.deepEqual(config.tls.alpn, ["hytale/2"]);
  assert.deepEqual(summaries('{"listen": ":1", "LISTEN": ":2"}', "c.json"), ["syntax listen 1:18"]);
  assert.deepEqual(summaries("Listen: ':1'\n"), ["unknown_key Listen 1:1"]);
});

Deno.test("names are normalised once: strategies, orders, filter types, ops, modes", () => {
  const p = pool(lines(
    "routing:",
    "  default:",
    "    strategy: ' Least-Loaded '",
    "    key: ' counter:players '",
    "    sort: [{ key: ' k ', order: DESC, type: Number }]",
    "    filters:",
    "      - { type: Game-Start-Not-Past, key: start }",
    "      - { type: COMPARE, left: a, op: GTE, right: b }",
    "      - { type: whitelist, enabled_key: e, list_key: l, subject: UserName }",
    "    fallback: [{ strategy: P2C }]",
    "    backends: [{ host: ' a ', port: 1 }]",
  ));
  assert.equal(p.strategy, "least_loaded");
  assert.equal(p.key, "counter:players");
  assert.deepEqual(p.sort, [{ key: "k", order: "desc", type: "number" }]);
  assert.deepEqual(p.filters, [
    { type: "game_start_not_past", key: "start" },
    { type: "compare", left: "a", op: "gte", right: "b" },
    { type: "whitelist", enabledKey: "e", listKey: "l", subject: "username" },
  ]);
  assert.deepEqual(p.fallback, [{ strategy: "p2c" }]);
  assert.equal(p.backends[0]?.host, "a");
});

Deno.test("sort and whitelist defaults: asc, string, uuid", () => {
  const p = pool(lines(
    "routing:",
    "  default:",
    "    strategy: random",
    "    sort: [{ key: k, order: '' }]",
    "    filters: [{ type: whitelist, enabled_key: e, list_key: l }]",
    "    backends: [{ host: a, port: 1 }]",
  ));
  assert.deepEqual(p.sort, [{ key: "k", order: "asc", type: "string" }]);
  assert.deepEqual(p.filters[0], {
    type: "whitelist",
    enabledKey: "e",
    listKey: "l",
    subject: "uuid",
  });
});

Deno.test("fallbacks keep only what they set; an empty list still overrides", () => {
  const p = pool(lines(
    "routing:",
    "  default:",
    "    strategy: p2c",
    "    key: load",
    "    filters: [{ type: game_start_not_past, key: s }]",
    "    fallback:",
    "      - { filters: [] }",
    "      - { strategy: round_robin, sort: [], limit: 0, sample: 3, filters: ~ }",
    "      - {}",
    "    backends: [{ host: a, port: 1 }]",
  ));
  assert.deepEqual(p.fallback, [
    { filters: [] },
    { strategy: "round_robin", sort: [], limit: 0, sample: 3 },
    {},
  ]);
  assert.ok(!("filters" in (p.fallback[1] ?? {})));
});

Deno.test("a fallback to least_loaded may rely on the pool's key", () => {
  const p = pool(lines(
    "routing:",
    "  default:",
    "    strategy: p2c",
    "    key: load",
    "    fallback: [{ strategy: least_loaded }]",
    "    backends: [{ host: a, port: 1 }]",
  ));
  assert.deepEqual(p.fallback, [{ strategy: "least_loaded" }]);
});

Deno.test("hostname patterns: lower-cased, trimmed, one trailing dot dropped; hostnames wins", () => {
  const config = parseConfig(
    lines(
      "routing:",
      "  routes:",
      "    - match: { hostname: ' Play.Example.COM. ' }",
      "      pool: &p { strategy: random, backends: [{ host: a, port: 1 }] }",
      "    - match: { hostname: ignored.example.com, hostnames: ['*.A.example', 'b.example..'] }",
      "      pool: *p",
      "    - match: { hostname: c.example.com, hostnames: [] }",
      "      pool: *p",
      "    - match: { hostname: '', hostnames: ['[a-c]?.example.com', '\\*.x'] }",
      "      pool: *p",
    ),
    "c.yaml",
  );
  assert.deepEqual(config.routing.routes.map((r) => r.hostnames), [
    ["play.example.com"],
    ["*.a.example", "b.example."],
    ["c.example.com"],
    ["[a-c]?.example.com", "\\*.x"],
  ]);
});

Deno.test("listen forms: all interfaces, IPv4, IPv6, host name, port 0", () => {
  const listen = (v: string) => parseConfig(`listen: '${v}'\n`, "c.yaml").listen;
  assert.deepEqual(listen(":5520"), { hostname: "::", port: 5520 });
  assert.deepEqual(listen("127.0.0.1:5520"), { hostname: "127.0.0.1", port: 5520 });
  assert.deepEqual(listen("[::1]:5520"), { hostname: "::1", port: 5520 });
  assert.deepEqual(listen("[::]:5520"), { hostname: "::", port: 5520 });
  assert.deepEqual(listen("localhost:5520"), { hostname: "localhost", port: 5520 });
  assert.deepEqual(listen("router.example.com:1"), { hostname: "router.example.com", port: 1 });
  assert.deepEqual(listen("127.0.0.1:0"), { hostname: "127.0.0.1", port: 0 });
});

Deno.test("admin.listen: default 127.0.0.1:9090, '' disables", () => {
  assert.deepEqual(parseConfig("", "c.yaml").admin.listen, { hostname: "127.0.0.1", port: 9090 });
  assert.equal(parseConfig("admin: { listen: '' }\n", "c.yaml").admin.listen, null);
  const open = parseConfig("admin: { listen: ':9100', token_file: t }\n", "conf/c.yaml").admin;
  assert.deepEqual(open.listen, { hostname: "::", port: 9100 });
});

Deno.test("admin.token_file resolves against the config file's folder; parseConfig reads nothing", () => {
  const admin = parseConfig("admin: { token_file: secrets/token }\n", "/srv/gh/c.yaml").admin;
  assert.equal(admin.tokenFile, "/srv/gh/secrets/token");
  assert.equal(admin.token, null);
  assert.equal(parseConfig("admin: { token_file: /abs/t }\n", "c.yaml").admin.tokenFile, "/abs/t");
  assert.equal(parseConfig("", "c.yaml").admin.tokenFile, null);
});

Deno.test("admin.listen on loopback needs no token file", () => {
  for (const listen of ["127.0.0.1:1", "127.9.8.7:1", "[::1]:1", "localhost:1", "LocalHost.:1"]) {
    const admin = parseConfig(`admin: { listen: "${listen}" }\n`, "c.yaml").admin;
    assert.equal(admin.listen?.port, 1, listen);
  }
});

Deno.test("limits and an empty plugins list are accepted", () => {
  const config = parseConfig(
    "limits: { max_connections_per_ip: 8 }\nplugins: []\ndiscovery: ~\n",
    "c.yaml",
  );
  assert.equal(config.limits.connectTimeoutMs, 5000);
  assert.equal(config.limits.maxConnectionsPerIp, 8);
});

Deno.test("the loaded config is deeply frozen", () => {
  const config = parseConfig(
    lines(
      "routing:",
      "  routes:",
      "    - match: { hostname: a.example.com }",
      "      pool: { strategy: random, backends: [{ host: a, port: 1, meta: { k: v } }] }",
    ),
    "c.yaml",
  );
  const route = config.routing.routes[0];
  assert.ok(Object.isFrozen(config));
  assert.ok(Object.isFrozen(config.routing.routes));
  assert.ok(Object.isFrozen(route?.pool.backends[0]?.meta));
  assert.ok(Object.isFrozen(route?.hostnames));
  assert.ok(Object.isFrozen(config.messages.locales.get("de")));
  assert.equal(route?.pool.backends[0]?.meta?.["toString"], undefined, "meta has no prototype");
});
