/** `limits` (admission keys) and `access`: values, defaults, and errors with path and line:col. */
import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/mod.ts";
import { errorsOf, lines, summaries } from "./expect_errors.ts";

Deno.test("limits: admission keys read with their defaults; 0 turns a limit off", () => {
  assert.deepEqual(parseConfig("", "c.yaml").limits, {
    connectTimeoutMs: 5_000,
    maxConnectionsPerIp: 32,
    ipv4Prefix: 32,
    ipv6Prefix: 64,
    handshakeRate: { perSecond: 20, burst: 40 },
    maxConnections: 10_000,
    ipv6Subnet: { prefix: 48, maxConnections: 1_024 },
  });
  const config = parseConfig(
    lines(
      "limits:",
      "  max_connections_per_ip: 0",
      "  ipv4_prefix: 24",
      "  ipv6_prefix: 56",
      "  handshake_rate: { per_second: 0 }",
      "  max_connections: 0",
      "  ipv6_subnet: { prefix: 40, max_connections: 0 }",
    ),
    "c.yaml",
  );
  assert.deepEqual(config.limits, {
    connectTimeoutMs: 5_000,
    maxConnectionsPerIp: 0,
    ipv4Prefix: 24,
    ipv6Prefix: 56,
    handshakeRate: { perSecond: 0, burst: 40 },
    maxConnections: 0,
    ipv6Subnet: { prefix: 40, maxConnections: 0 },
  });
  const json = parseConfig(
    '{"limits": {"handshake_rate": {"per_second": 5, "burst": 7}}}',
    "c.json",
  );
  assert.deepEqual(json.limits.handshakeRate, { perSecond: 5, burst: 7 });
});

Deno.test("limits: out-of-range and mistyped admission keys are errors at their line:col", () => {
  const text = lines(
    "limits:",
    "  ipv4_prefix: 33",
    "  ipv6_prefix: 129",
    "  max_connections: -1",
    "  handshake_rate:",
    "    per_second: fast",
    "    burst: 0",
    "    brust: 3",
  );
  assert.deepEqual(summaries(text), [
    "invalid limits.ipv4_prefix 2:16",
    "invalid limits.ipv6_prefix 3:16",
    "invalid limits.max_connections 4:20",
    "type limits.handshake_rate.per_second 6:17",
    "invalid limits.handshake_rate.burst 7:12",
    "unknown_key limits.handshake_rate.brust 8:5",
  ]);
  assert.deepEqual(summaries(lines("limits:", "  handshake_rate: 20")), [
    "type limits.handshake_rate 2:19",
  ]);
  assert.deepEqual(
    summaries(lines(
      "limits:",
      "  ipv6_prefix: 48",
      "  ipv6_subnet: { prefix: 56, max_connections: -2, max: 1 }",
    )),
    [
      "invalid limits.ipv6_subnet.prefix 3:26",
      "invalid limits.ipv6_subnet.max_connections 3:47",
      "unknown_key limits.ipv6_subnet.max 3:51",
    ],
  );
});

Deno.test("access: allow and deny read as canonical ranges; unset means everyone", () => {
  assert.deepEqual(parseConfig("", "c.yaml").access, { allow: null, deny: [] });
  const config = parseConfig(
    lines(
      "access:",
      "  allow: [10.0.0.0/8, '2001:db8::/32']",
      "  deny:",
      "    - 10.1.2.3",
      "    - ' ::ffff:192.0.2.0/120 '",
    ),
    "c.yaml",
  );
  assert.deepEqual(config.access.allow?.map((r) => r.text), ["10.0.0.0/8", "2001:db8::/32"]);
  assert.deepEqual(config.access.deny.map((r) => r.text), ["10.1.2.3/32", "192.0.2.0/24"]);
  assert.ok(Object.isFrozen(config.access.deny[0]));
  assert.deepEqual(parseConfig("access: { allow: ~, deny: ~ }\n", "c.yaml").access, {
    allow: null,
    deny: [],
  });
  const json = parseConfig('{"access": {"deny": ["192.0.2.0/24"]}}', "c.json");
  assert.deepEqual(json.access.deny.map((r) => r.text), ["192.0.2.0/24"]);
});

Deno.test("access: invalid CIDRs are load errors naming the entry with line:col", () => {
  const text = lines(
    "access:",
    "  deny:",
    "    - 10.0.0.0/33",
    "    - 300.1.2.3",
    "    - 10.0.0.1/8",
    "    - 10.0.0.0/8",
    "  allow: ['2001:db8::/129', ~, [1]]",
  );
  assert.deepEqual(summaries(text), [
    "invalid access.deny[0] 3:7",
    "invalid access.deny[1] 4:7",
    "invalid access.deny[2] 5:7",
    "invalid access.allow[0] 7:11",
    "type access.allow[1] 7:29",
    "type access.allow[2] 7:32",
  ]);
  const [first, , hostBits] = errorsOf(text);
  assert.equal(
    first?.message,
    'config.yaml:3:7 access.deny[0]: invalid CIDR: prefix length "33" is not a number from 0 to 32',
  );
  assert.equal(
    hostBits?.message,
    "config.yaml:5:7 access.deny[2]: invalid CIDR: host bits are set after the /8 prefix " +
      '(write "10.0.0.0/8" for the network or "10.0.0.1/32" for the one address)',
  );
  const json = errorsOf('{\n  "access": {"deny": ["10.0.0.0/8", "x"]}\n}', "c.json");
  assert.deepEqual(json.map((e) => `${e.path} ${e.line}:${e.column}`), ["access.deny[1] 2:37"]);
});

Deno.test("access: an empty allow list, a scalar list and unknown keys are errors", () => {
  assert.deepEqual(summaries(lines("access:", "  allow: []")), ["invalid access.allow 2:10"]);
  assert.match(errorsOf(lines("access:", "  allow: []"))[0]!.message, /deny: \[0\.0\.0\.0\/0/);
  assert.deepEqual(summaries(lines("access:", "  deny: 10.0.0.0/8")), ["type access.deny 2:9"]);
  assert.deepEqual(summaries(lines("access:", "  alow: [10.0.0.0/8]")), [
    "unknown_key access.alow 2:3",
  ]);
  assert.deepEqual(summaries("access: [10.0.0.0/8]\n"), ["type access 1:9"]);
});
