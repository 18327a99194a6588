/**
 * Admission decisions with an injected clock: the handshake token bucket, per-prefix grouping,
 * the total cap, access lists, the bounded prefix table and reloads that keep the counts.
 */
import { type LimitsConfig, parseConfig } from "../../src/config/mod.ts";
import {
  Admission,
  type AdmissionSettings,
  type AdmitResult,
  type Admitted,
  type Pending,
} from "../../src/server/mod.ts";
import { assert, assertEquals } from "../support/assert.ts";

const OFF: LimitsConfig = {
  connectTimeoutMs: 5_000,
  maxConnectionsPerIp: 0,
  ipv4Prefix: 32,
  ipv6Prefix: 64,
  handshakeRate: { perSecond: 0, burst: 1 },
  maxConnections: 0,
  ipv6Subnet: { prefix: 48, maxConnections: 0 },
};

/** Settings with every limit off except those in `limits`, and no access lists. */
function settings(limits: Partial<LimitsConfig> = {}, access = {}): AdmissionSettings {
  return { limits: { ...OFF, ...limits }, access: { allow: null, deny: [], ...access } };
}

/** Access lists as the config loader reads them. */
function accessOf(yaml: string): AdmissionSettings["access"] {
  return parseConfig(yaml, "access.yaml").access;
}

function admitted(result: AdmitResult, message?: string): Admitted {
  assert(result.ok, message ?? `refused: ${!result.ok && result.reason}`);
  return result;
}

function reasonOf(result: AdmitResult): string {
  return result.ok ? "admitted" : result.reason;
}

Deno.test("admission: the config's defaults are on (32 per prefix, 20/s burst 40, 10,000)", () => {
  const config = parseConfig("", "c.yaml");
  assertEquals(config.limits, {
    connectTimeoutMs: 5_000,
    maxConnectionsPerIp: 32,
    ipv4Prefix: 32,
    ipv6Prefix: 64,
    handshakeRate: { perSecond: 20, burst: 40 },
    maxConnections: 10_000,
    ipv6Subnet: { prefix: 48, maxConnections: 1_024 },
  });
  const admission = new Admission(config);
  // From one address at once: 32 open, the 33rd is over the per-prefix limit (refused before
  // its handshake, so it spends no token); 8 more handshakes, then the burst of 40 is used up.
  const held = Array.from({ length: 32 }, () => admitted(admission.admit("192.0.2.1", 0)));
  assertEquals(reasonOf(admission.admit("192.0.2.1", 0)), "per_ip_limit");
  for (const ticket of held) ticket.release();
  const results = Array.from({ length: 9 }, () => reasonOf(admission.admit("192.0.2.1", 0)));
  assertEquals(results, [...Array(8).fill("admitted"), "rate_limit"]);
});

Deno.test("admission: handshake token bucket refills with the injected clock, up to the burst", () => {
  const admission = new Admission(settings({ handshakeRate: { perSecond: 2, burst: 3 } }));
  const at = (now: number) => reasonOf(admission.admit("192.0.2.1", now));
  assertEquals([at(0), at(0), at(0), at(0)], ["admitted", "admitted", "admitted", "rate_limit"]);
  assertEquals(at(499), "rate_limit", "half a second at 2/s is one token; 499 ms is not");
  assertEquals(at(500), "admitted");
  assertEquals(at(500), "rate_limit");
  // A long quiet spell refills to the burst, not beyond.
  const later = [at(60_000), at(60_000), at(60_000), at(60_000)];
  assertEquals(later, ["admitted", "admitted", "admitted", "rate_limit"]);
  // Refused attempts take no token: 500 ms later exactly one is back.
  assertEquals([at(60_500), at(60_500)], ["admitted", "rate_limit"]);
  assertEquals(reasonOf(admission.admit("192.0.2.2", 60_500)), "admitted", "own bucket");
});

Deno.test("admission: a clock stepping back refills nothing, and no interval twice", () => {
  const admission = new Admission(settings({ handshakeRate: { perSecond: 1, burst: 1 } }));
  const at = (now: number) => reasonOf(admission.admit("192.0.2.1", now));
  assertEquals(at(10_000), "admitted");
  assertEquals(at(5_000), "rate_limit");
  assertEquals(at(10_999), "rate_limit");
  assertEquals(at(11_000), "admitted");
});

Deno.test("admission: an IPv6 /64 is one client; different /64s are not", () => {
  const admission = new Admission(settings({ maxConnectionsPerIp: 2 }));
  admitted(admission.admit("2001:db8:1:2::1", 0));
  admitted(admission.admit("2001:db8:1:2:ffff:ffff:ffff:ffff", 0));
  assertEquals(reasonOf(admission.admit("2001:DB8:1:2:0:0:0:99", 0)), "per_ip_limit");
  admitted(admission.admit("2001:db8:1:3::1", 0), "the next /64 has its own budget");
  assertEquals(admission.openFor("2001:db8:1:2::77"), 2);
  assertEquals(admission.openFor("2001:db8:1:3::"), 1);
  assertEquals(admission.trackedPrefixes, 2);
});

Deno.test("admission: one IPv6 subnet holds at most ipv6_subnet.max_connections over its /64s", () => {
  const admission = new Admission(
    settings({ maxConnectionsPerIp: 2, ipv6Subnet: { prefix: 48, maxConnections: 5 } }),
  );
  // A subscriber's /48: each /64 is a client of its own, all of them together get 5.
  const held = ["1", "2", "3"].flatMap((net) => [
    admission.admit(`2001:db8:7:${net}::1`, 0),
    admission.admit(`2001:db8:7:${net}::2`, 0),
  ]);
  assertEquals(held.map(reasonOf), [...Array(5).fill("admitted"), "subnet_limit"]);
  assertEquals(reasonOf(admission.admit("2001:db8:7:ffff::1", 0)), "subnet_limit");
  admitted(admission.admit("2001:db8:8::1", 0), "another /48");
  admitted(admission.admit("192.0.2.1", 0), "IPv4 is not counted");
  admitted(admission.admit("::ffff:192.0.2.2", 0), "nor IPv4-mapped");
  admitted(held[0]!).release();
  admitted(admission.admit("2001:db8:7:ffff::1", 0), "a slot came back");
  assertEquals(reasonOf(admission.admit("2001:db8:7:ffff::2", 0)), "subnet_limit");
});

Deno.test("admission: IPv4-mapped IPv6 counts as IPv4; ipv4_prefix groups IPv4 clients", () => {
  const admission = new Admission(settings({ maxConnectionsPerIp: 1 }));
  admitted(admission.admit("::ffff:192.0.2.7", 0));
  assertEquals(reasonOf(admission.admit("192.0.2.7", 0)), "per_ip_limit");
  assertEquals(reasonOf(admission.admit("::ffff:c000:207", 0)), "per_ip_limit", "hex spelling");
  admitted(admission.admit("192.0.2.8", 0));
  // ::192.0.2.9 (IPv4-compatible, deprecated) is an IPv6 address, not IPv4.
  admitted(admission.admit("::192.0.2.9", 0));
  admitted(admission.admit("192.0.2.9", 0));

  const by24 = new Admission(settings({ maxConnectionsPerIp: 2, ipv4Prefix: 24 }));
  admitted(by24.admit("198.51.100.1", 0));
  admitted(by24.admit("::ffff:198.51.100.200", 0));
  assertEquals(reasonOf(by24.admit("198.51.100.99", 0)), "per_ip_limit");
  admitted(by24.admit("198.51.101.1", 0));
});

Deno.test("admission: a release frees one slot, once; releases leave the global count right", () => {
  const admission = new Admission(settings({ maxConnectionsPerIp: 1 }));
  const first = admitted(admission.admit("192.0.2.1", 0));
  assertEquals(reasonOf(admission.admit("192.0.2.1", 0)), "per_ip_limit");
  first.release();
  first.release(); // must not free a slot it does not hold
  assertEquals(admission.open, 0);
  assertEquals(admission.openFor("192.0.2.1"), 0);
  const again = admitted(admission.admit("192.0.2.1", 0));
  assertEquals(reasonOf(admission.admit("192.0.2.1", 0)), "per_ip_limit");
  again.release();
  assertEquals(admission.open, 0);
});

Deno.test("admission: max_connections caps all clients together", () => {
  const admission = new Admission(settings({ maxConnections: 3, maxConnectionsPerIp: 2 }));
  const held = ["192.0.2.1", "192.0.2.2", "2001:db8::1"].map((a) =>
    admitted(admission.admit(a, 0))
  );
  assertEquals(reasonOf(admission.admit("192.0.2.9", 0)), "capacity");
  assertEquals(reasonOf(admission.admit("192.0.2.1", 0)), "capacity");
  assertEquals(admission.open, 3);
  held[0]!.release();
  admitted(admission.admit("192.0.2.9", 0));
});

Deno.test("admission: checks run in order: access, rate, per prefix, capacity", () => {
  const admission = new Admission(settings(
    { maxConnectionsPerIp: 1, maxConnections: 1, handshakeRate: { perSecond: 1, burst: 2 } },
    accessOf("access: { deny: [192.0.2.66] }"),
  ));
  const first = admitted(admission.admit("192.0.2.1", 0));
  assertEquals(reasonOf(admission.admit("192.0.2.66", 0)), "access_denied");
  assertEquals(reasonOf(admission.admit("192.0.2.1", 0)), "per_ip_limit");
  first.release();
  admitted(admission.admit("192.0.2.1", 0), "a per-prefix refusal spent no token");
  assertEquals(reasonOf(admission.admit("192.0.2.1", 0)), "rate_limit", "the burst of 2 is used");
  assertEquals(reasonOf(admission.admit("192.0.2.2", 0)), "capacity");
});

/** Arrivals from `address` left in their handshake; counts the evictions of each. */
function arriveMany(admission: Admission, address: string, count: number, now = 0) {
  const evicted: number[] = [];
  const pending: Pending[] = [];
  for (let i = 0; i < count; i++) {
    const result = admission.arrive(address, now, () => evicted.push(i));
    assert(result.ok, `arrival ${i} refused: ${!result.ok && result.reason}`);
    pending.push(result);
  }
  return { evicted, pending };
}

Deno.test("admission: handshakes from a spoofed address spend no token and take no slot", () => {
  const admission = new Admission(
    settings({ maxConnectionsPerIp: 2, handshakeRate: { perSecond: 1, burst: 2 } }),
  );
  // A spoofer's Initials never complete a handshake: 1,000 of them for the victim's address.
  const spoofed = arriveMany(admission, "192.0.2.1", 1_000);
  assertEquals(admission.pending, 2, "at most max_connections_per_ip pending per prefix");
  assertEquals(spoofed.evicted.length, 998, "the oldest are evicted, not the newest refused");
  assertEquals(spoofed.evicted.slice(0, 3), [0, 1, 2]);
  // The victim's own connections: a full bucket and free slots.
  const victim = [admission.admit("192.0.2.1", 0), admission.admit("192.0.2.1", 0)];
  assertEquals(victim.map(reasonOf), ["admitted", "admitted"]);
  assertEquals(spoofed.evicted.length, 999, "the victim's first arrival made room");
  assertEquals(admission.pending, 1);
  for (const pending of spoofed.pending) pending.abandon();
  assertEquals([admission.open, admission.openFor("192.0.2.1")], [2, 2]);
});

Deno.test("admission: pending handshakes are capped in all, oldest first; evicted ones are refused", () => {
  const admission = new Admission(settings({ maxConnectionsPerIp: 8 }), { maxPending: 4 });
  const evicted: string[] = [];
  const arrivals = ["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4", "192.0.2.5"].map((a) => {
    const result = admission.arrive(a, 0, () => evicted.push(a));
    assert(result.ok);
    return result;
  });
  assertEquals(evicted, ["192.0.2.1"]);
  assertEquals(admission.pending, 4);
  assertEquals(reasonOf(arrivals[0]!.validate(0)), "handshake_limit");
  assertEquals(reasonOf(arrivals[1]!.validate(0)), "admitted");
  arrivals[2]!.abandon();
  arrivals[2]!.abandon();
  assertEquals(reasonOf(arrivals[2]!.validate(0)), "handshake_limit", "settled once");
  assertEquals([admission.pending, admission.open], [2, 1]);
  assertEquals(evicted, ["192.0.2.1"], "abandoning calls no eviction callback");
});

Deno.test("admission: the limits are checked again when the handshake completes", () => {
  const admission = new Admission(
    settings({ maxConnectionsPerIp: 1, handshakeRate: { perSecond: 1, burst: 1 } }),
  );
  const a = arriveMany(admission, "192.0.2.1", 1).pending[0]!;
  const b = arriveMany(admission, "192.0.2.1", 1).pending[0]!;
  assertEquals(admission.pending, 1, "the per-prefix pending cap (1) evicted a");
  assertEquals(reasonOf(a.validate(0)), "handshake_limit");
  const c = arriveMany(admission, "192.0.2.7", 1).pending[0]!;
  const d = arriveMany(admission, "192.0.2.8", 1).pending[0]!;
  assertEquals(reasonOf(b.validate(0)), "admitted");
  assertEquals(reasonOf(c.validate(0)), "admitted");
  // d's prefix was free at arrival; a reload since lowered max_connections to 2.
  admission.update(settings({ maxConnectionsPerIp: 1, maxConnections: 2 }));
  assertEquals(reasonOf(d.validate(0)), "capacity");
  admission.update(settings({ maxConnectionsPerIp: 1, handshakeRate: { perSecond: 1, burst: 1 } }));
  const e = arriveMany(admission, "192.0.2.9", 1, 10_000).pending[0]!;
  const f = arriveMany(admission, "192.0.2.9", 1, 10_000).pending[0]!;
  assertEquals(reasonOf(e.validate(10_000)), "handshake_limit", "f evicted e");
  assertEquals(reasonOf(f.validate(10_000)), "admitted");
  assertEquals(reasonOf(admission.admit("192.0.2.1", 10_000)), "per_ip_limit");
  assertEquals([admission.open, admission.pending], [3, 0]);
});

Deno.test("admission: a reload that regroups prefixes keeps pending handshakes counted", () => {
  const admission = new Admission(settings({ maxConnectionsPerIp: 2 }));
  const a = arriveMany(admission, "2001:db8:0:1::1", 1).pending[0]!;
  const b = arriveMany(admission, "2001:db8:0:2::1", 1).pending[0]!;
  admission.update(settings({ maxConnectionsPerIp: 2, ipv6Prefix: 48 }));
  // Both are pending in 2001:db8::/48 now: a third arrival there evicts the oldest (a).
  const c = arriveMany(admission, "2001:db8:0:3::1", 1);
  assertEquals(reasonOf(a.validate(0)), "handshake_limit");
  assertEquals(c.evicted, []);
  assertEquals([reasonOf(b.validate(0)), reasonOf(c.pending[0]!.validate(0))], [
    "admitted",
    "admitted",
  ]);
  assertEquals(admission.openFor("2001:db8::"), 2);
  assertEquals(admission.pending, 0);
});

Deno.test("admission: deny wins over allow; with allow set only listed ranges get in", () => {
  const admission = new Admission(settings(
    {},
    accessOf(`
access:
  allow: [10.0.0.0/8, "2001:db8::/32", 192.0.2.10]
  deny: [10.1.0.0/16, "2001:db8:bad::/48", 10.2.3.4]
`),
  ));
  const cases: [string, string][] = [
    ["10.9.8.7", "admitted"],
    ["::ffff:10.9.8.7", "admitted"],
    ["10.1.2.3", "access_denied"],
    ["10.2.3.4", "access_denied"],
    ["10.2.3.5", "admitted"],
    ["192.0.2.10", "admitted"],
    ["192.0.2.11", "access_denied"],
    ["2001:db8:1::1", "admitted"],
    ["2001:db8:bad:ffff::1", "access_denied"],
    ["2001:db9::1", "access_denied"],
    ["not an address", "access_denied"],
  ];
  for (const [address, expected] of cases) {
    assertEquals(reasonOf(admission.admit(address, 0)), expected, address);
  }
  const denyOnly = new Admission(settings({}, accessOf("access: { deny: [0.0.0.0/0] }")));
  assertEquals(reasonOf(denyOnly.admit("203.0.113.5", 0)), "access_denied");
  assertEquals(reasonOf(denyOnly.admit("::ffff:203.0.113.5", 0)), "access_denied");
  assertEquals(reasonOf(denyOnly.admit("2001:db8::5", 0)), "admitted", "IPv6 is not in 0/0");
  assertEquals(denyOnly.trackedPrefixes, 1, "denied clients leave nothing in the table");
});

Deno.test("admission: the matcher agrees with a linear scan on random nested ranges", () => {
  let seed = 7;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const ip = (a: number) => `10.${a >> 16 & 255}.${a >> 8 & 255}.${a & 255}`;
  for (let round = 0; round < 20; round++) {
    const ranges = Array.from({ length: 1 + rand(30) }, () => {
      const prefix = 8 + rand(25);
      const base = rand(1 << 24) & ~((1 << (32 - prefix)) - 1) & 0xffffff;
      return { base, prefix };
    });
    const yaml = `access: { deny: [${ranges.map((r) => `${ip(r.base)}/${r.prefix}`).join(", ")}] }`;
    const admission = new Admission(settings({}, accessOf(yaml)));
    for (let i = 0; i < 500; i++) {
      const a = rand(1 << 24);
      const inside = ranges.some((r) => ((a ^ r.base) >>> (32 - r.prefix)) === 0);
      const got = reasonOf(admission.admit(ip(a), 0));
      assertEquals(got, inside ? "access_denied" : "admitted", `${ip(a)} in ${yaml}`);
    }
  }
});

Deno.test("admission: IPv6 lookups agree with a BigInt scan on random nested ranges", () => {
  let seed = 11;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  // Few distinct group values, so ranges nest and addresses land inside them often; the first
  // group is never 0, which keeps IPv4-mapped addresses (counted as IPv4) out.
  const groups = () => Array.from({ length: 8 }, (_, i) => [0xffff, 1, 0xdb8, 0][rand(i ? 4 : 3)]!);
  const big = (gs: number[]) => gs.reduce((n, g) => (n << 16n) | BigInt(g), 0n);
  const text = (n: bigint) =>
    Array.from({ length: 8 }, (_, i) => ((n >> BigInt(112 - 16 * i)) & 0xffffn).toString(16))
      .join(":");
  for (let round = 0; round < 20; round++) {
    const ranges = Array.from({ length: 1 + rand(20) }, () => {
      const prefix = rand(129);
      const hostMask = (1n << BigInt(128 - prefix)) - 1n;
      return { base: big(groups()) & ~hostMask, hostMask, prefix };
    });
    const list = ranges.map((r) => `"${text(r.base)}/${r.prefix}"`).join(", ");
    const admission = new Admission(settings({}, accessOf(`access: { allow: [${list}] }`)));
    for (let i = 0; i < 300; i++) {
      const a = big(groups());
      const inside = ranges.some((r) => (a & ~r.hostMask) === r.base);
      assertEquals(reasonOf(admission.admit(text(a), 0)), inside ? "admitted" : "access_denied");
    }
  }
});

Deno.test("admission: a flood of 1M distinct prefixes keeps the table at its cap", () => {
  const admission = new Admission(settings({ maxConnectionsPerIp: 1 }));
  // Busy prefixes (open connections) are never evicted: their counts must survive the flood.
  const held = Array.from({ length: 100 }, (_, i) => admitted(admission.admit(`192.0.2.${i}`, 0)));
  for (let i = 0; i < 1_000_000; i++) {
    const address = `2001:db8:${(i >>> 16).toString(16)}:${(i & 0xffff).toString(16)}::1`;
    admitted(admission.admit(address, i)).release();
  }
  assertEquals(admission.trackedPrefixes, 65_536 + 100);
  assertEquals(reasonOf(admission.admit("192.0.2.0", 1e6)), "per_ip_limit");
  assertEquals(admission.openFor("192.0.2.99"), 1);
  for (const ticket of held) ticket.release();
  assertEquals(admission.open, 0);
  assertEquals(admission.trackedPrefixes, 65_536, "released prefixes are idle, within the cap");
});

Deno.test("admission: held connections stay bounded by max_connections under a flood", () => {
  const admission = new Admission(
    settings({ maxConnectionsPerIp: 1, maxConnections: 50 }),
    { maxIdlePrefixes: 1_000 },
  );
  let refused = 0;
  for (let i = 0; i < 100_000; i++) {
    const result = admission.admit(`10.${i >> 16 & 255}.${i >> 8 & 255}.${i & 255}`, i);
    if (!result.ok) refused++;
  }
  assertEquals(admission.open, 50);
  assertEquals(refused, 100_000 - 50);
  assertEquals(admission.trackedPrefixes, 1_000 + 50);
});

Deno.test("admission: a reload changes limits and keeps the open counts", () => {
  const admission = new Admission(settings({ maxConnectionsPerIp: 2 }));
  const held = [
    admitted(admission.admit("192.0.2.1", 0)),
    admitted(admission.admit("192.0.2.1", 0)),
  ];
  admission.update(settings({ maxConnectionsPerIp: 2, handshakeRate: { perSecond: 5, burst: 9 } }));
  assertEquals(reasonOf(admission.admit("192.0.2.1", 0)), "per_ip_limit", "counts survived");
  admission.update(settings({ maxConnectionsPerIp: 3 }));
  const third = admitted(admission.admit("192.0.2.1", 0));
  admission.update(settings({ maxConnectionsPerIp: 1 }));
  assertEquals(admission.openFor("192.0.2.1"), 3, "a lower limit closes nothing");
  held[0]!.release();
  held[1]!.release();
  assertEquals(reasonOf(admission.admit("192.0.2.1", 0)), "per_ip_limit", "still 1 open");
  third.release();
  admitted(admission.admit("192.0.2.1", 0));
  admission.update(settings({}, accessOf("access: { deny: [192.0.2.0/24] }")));
  assertEquals(reasonOf(admission.admit("192.0.2.1", 0)), "access_denied", "new lists apply");
  assertEquals(admission.open, 1);
});

Deno.test("admission: a reload that changes a prefix length regroups the open counts", () => {
  const admission = new Admission(settings({ maxConnectionsPerIp: 2 }));
  const a = admitted(admission.admit("2001:db8:0:1::1", 0));
  const b = admitted(admission.admit("2001:db8:0:2::1", 0));
  // Both /64s lie in 2001:db8::/48, which now holds 2 connections: at its limit.
  admission.update(settings({ maxConnectionsPerIp: 2, ipv6Prefix: 48 }));
  assertEquals(admission.openFor("2001:db8:0:ffff::1"), 2);
  assertEquals(reasonOf(admission.admit("2001:db8:0:3::1", 0)), "per_ip_limit");
  admitted(admission.admit("2001:db8:1::1", 0)).release();
  a.release();
  assertEquals(admission.openFor("2001:db8::"), 1, "releases reach the merged entry");
  // Back to /64: the remaining connection counts under its /48's network address.
  admission.update(settings({ maxConnectionsPerIp: 1, ipv6Prefix: 64 }));
  assertEquals(admission.openFor("2001:db8::1"), 1);
  b.release();
  assertEquals(admission.open, 0);
  assertEquals(admission.openFor("2001:db8::1"), 0);
});

Deno.test("admission: an unreadable address shares one key and never passes an allow list", () => {
  const open = new Admission(settings({ maxConnectionsPerIp: 1 }));
  admitted(open.admit("fe80::1%eth0", 0));
  assertEquals(reasonOf(open.admit("garbage", 0)), "per_ip_limit");
  const allowAll = new Admission(settings({}, accessOf("access: { allow: [0.0.0.0/0, ::/0] }")));
  admitted(allowAll.admit("fe80::1", 0));
  assertEquals(reasonOf(allowAll.admit("fe80::1%eth0", 0)), "access_denied");
});
