import assert from "node:assert/strict";
import { ConfigError, ConfigErrors, loadConfig, parseConfig } from "../../src/config/mod.ts";
import { configFingerprint } from "../../src/config/fingerprint.ts";
import { errorsOf, lines, summaries } from "./expect_errors.ts";

const POOL = lines(
  "routing:",
  "  default:",
  "    stratgy: round_robin",
  "    backends:",
  "      - host: a.example.com",
  "        port: 5520",
);

Deno.test("a misspelt key names the key, its line:col and the closest valid key", () => {
  const [error, ...rest] = errorsOf(POOL);
  assert.deepEqual(rest, []);
  assert.ok(error instanceof ConfigError);
  assert.equal(error.code, "unknown_key");
  assert.equal(error.path, "routing.default.stratgy");
  assert.equal(error.line, 3);
  assert.equal(error.column, 5);
  assert.equal(error.hint, 'did you mean "strategy"?');
  assert.equal(
    error.message,
    'config.yaml:3:5 routing.default.stratgy: unknown key "stratgy" (did you mean "strategy"?)',
  );
});

Deno.test("an unknown value names the config path and suggests the closest name", () => {
  const text = lines(
    "routing:",
    "  routes:",
    "    - match: { hostname: a.example.com }",
    "      pool: { strategy: round_robin, backends: [{ host: a, port: 1 }] }",
    "    - match: { hostname: b.example.com }",
    "      pool: { strategy: round_robin, backends: [{ host: b, port: 1 }] }",
    "    - match: { hostname: c.example.com }",
    "      pool:",
    "        backends: [{ host: c, port: 1 }]",
    "        strategy: round_robbin",
  );
  const [error] = errorsOf(text);
  assert.equal(
    error?.message,
    'config.yaml:10:19 routing.routes[2].pool.strategy: unknown strategy "round_robbin"' +
      ' (did you mean "round_robin"?)',
  );
});

Deno.test("an unknown key with no close match lists the valid keys", () => {
  const [error] = errorsOf("colour: blue\n");
  assert.equal(error?.path, "colour");
  assert.match(error?.hint ?? "", /^valid keys: listen, tls, quic, /);
});

Deno.test("every error in a file is reported at once, sorted by position", () => {
  const text = lines(
    'listen: ""', // 1
    "tls:", // 2
    "  cert_file: /etc/tls.crt", // 3
    "quic:", // 4
    "  max_idle_timeout: 5x", // 5
    "referral:", // 6
    "  key_id: 256", // 7
    "routing:", // 8
    "  default:", // 9
    "    strategy: weighted", // 10
    "    limit: -1", // 11
    "    backends:", // 12
    "      - host: a.example.com", // 13
    "        port: 70000", // 14
    "logging: { log_client_ip: maybe }", // 15
  );
  assert.deepEqual(summaries(text), [
    "invalid listen 1:9",
    "required tls.key_file 3:3",
    "invalid quic.max_idle_timeout 5:21",
    "invalid referral.key_id 7:11",
    "invalid routing.default.limit 11:12",
    "invalid routing.default.backends[0].weight 13:9",
    "invalid routing.default.backends[0].port 14:15",
    "type logging.log_client_ip 15:27",
  ]);
});

Deno.test("ConfigErrors lists every message; one error keeps its own message", () => {
  const many = new ConfigErrors(errorsOf("a: 1\nb: 2\n"));
  assert.equal(
    many.message,
    '2 config errors:\n  config.yaml:1:1 a: unknown key "a" (valid keys: listen, tls, quic, logging, ' +
      "routing, referral, messages, plugins, discovery, admin, limits, access, maintenance)\n  config.yaml:2:1 b: " +
      'unknown key "b" (valid keys: listen, tls, quic, logging, routing, referral, messages, ' +
      "plugins, discovery, admin, limits, access, maintenance)",
  );
  const one = new ConfigErrors(errorsOf("listen: 1\n"));
  assert.equal(one.message, one.errors[0]?.message);
});

Deno.test("YAML syntax errors carry their line:col", () => {
  const errors = errorsOf("routing:\n  default: [1, 2\nlisten: x\n");
  assert.equal(errors[0]?.code, "syntax");
  assert.match(errors[0]?.message ?? "", /^config\.yaml:3:1: YAML syntax error: /);
  const duplicate = errorsOf("listen: ':1'\nlisten: ':2'\n");
  assert.deepEqual(duplicate.map((e) => [e.code, e.line, e.column]), [["syntax", 2, 1]]);
});

Deno.test("JSON syntax errors carry their line:col", () => {
  const cases: [string, number, number, RegExp][] = [
    ['{\n  "listen": ":1",\n}\n', 3, 1, /expected a double-quoted key/],
    ['{\n  "listen": ":1"\n  "tls": {}\n}', 3, 3, /expected "," or "}"/],
    ["{\n  // comment\n}", 2, 3, /expected a double-quoted key/],
    ["{\n  \"listen\": 'x'\n}", 2, 13, /unexpected "'"/],
    ['{"listen": ":1", "listen": ":2"}', 1, 18, /duplicate key "listen"/],
    ['{"listen": "unterminated', 1, 12, /unterminated string/],
    ['{"a": 1} x', 1, 10, /unexpected content after the JSON value/],
    ["", 1, 1, /unexpected end of input/],
  ];
  for (const [text, line, column, pattern] of cases) {
    const [error, ...rest] = errorsOf(text, "config.json");
    assert.deepEqual(rest, [], text);
    assert.equal(error?.code, "syntax", text);
    assert.deepEqual([error?.line, error?.column], [line, column], text);
    assert.match(error?.message ?? "", pattern, text);
  }
});

Deno.test("JSON schema errors carry line:col too", () => {
  const text =
    '{\n  "routing": {\n    "default": { "stratgy": "random", "strategy": "random", "backends": [{"host": "a", "port": 1}] }\n  }\n}\n';
  assert.deepEqual(summaries(text, "config.json"), ["unknown_key routing.default.stratgy 3:18"]);
});

Deno.test("the extension picks the format, case-insensitively; others are refused by name", () => {
  assert.equal(parseConfig("{}", "CONFIG.JSON").listen.port, 5520);
  assert.equal(parseConfig("listen: ':1'", "a/b.YML").listen.port, 1);
  const [txt] = errorsOf("listen: ':1'", "config.txt");
  assert.equal(txt?.code, "extension");
  assert.equal(
    txt?.message,
    'config.txt: unsupported config file extension ".txt" (expected .yaml, .yml or .json)',
  );
  const [none] = errorsOf("listen: ':1'", "dir.d/config");
  assert.equal(none?.code, "extension");
});

Deno.test("loadConfig reads through the injected file system", async () => {
  const read: string[] = [];
  const fs = {
    readTextFile(p: string) {
      read.push(p);
      return Promise.resolve("listen: '127.0.0.1:6000'\n");
    },
  };
  const config = await loadConfig("/etc/gatehouse/config.yaml", fs);
  assert.deepEqual(read, ["/etc/gatehouse/config.yaml"]);
  assert.equal(config.source, "/etc/gatehouse/config.yaml");
  assert.deepEqual(config.listen, { hostname: "127.0.0.1", port: 6000 });
  // The fingerprint of what was parsed (fingerprint_test.ts), not of the text.
  assert.equal(config.sha256, await configFingerprint(config));
  assert.equal(parseConfig("listen: '127.0.0.1:6000'\n", "x.yaml").sha256, null);
});

Deno.test("loadConfig reports an unreadable file and an unknown extension without reading", async () => {
  const failing = { readTextFile: () => Promise.reject(new Error("No such file or directory")) };
  await assert.rejects(loadConfig("missing.yaml", failing), (e: unknown) => {
    assert.ok(e instanceof ConfigErrors);
    assert.equal(e.errors[0]?.code, "io");
    assert.equal(e.message, "missing.yaml: cannot read config file: No such file or directory");
    return true;
  });
  const unused = { readTextFile: () => Promise.reject(new Error("must not be read")) };
  await assert.rejects(loadConfig("config.toml", unused), (e: unknown) => {
    assert.ok(e instanceof ConfigErrors);
    assert.equal(e.errors[0]?.code, "extension");
    return true;
  });
});
