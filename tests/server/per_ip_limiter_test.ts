import { PerIpLimiter } from "../../src/server/mod.ts";
import { assert, assertEquals } from "../support/assert.ts";

Deno.test("per-ip limiter admits up to the limit per address and counts refusals", () => {
  const limiter = new PerIpLimiter(2);
  const a1 = limiter.admit("10.0.0.1");
  const a2 = limiter.admit("10.0.0.1");
  assert(a1 && a2);
  assertEquals(limiter.admit("10.0.0.1"), null);
  assertEquals(limiter.admit("10.0.0.1"), null);
  assert(limiter.admit("10.0.0.2"), "another address has its own budget");
  assertEquals(limiter.refused, 2);
  assertEquals(limiter.openFor("10.0.0.1"), 2);
});

Deno.test("per-ip limiter counts concurrent connections: a release frees one slot, once", () => {
  const limiter = new PerIpLimiter(1);
  const release = limiter.admit("10.0.0.1");
  assert(release);
  assertEquals(limiter.admit("10.0.0.1"), null);
  release();
  release(); // a second call must not free a slot it does not hold
  assertEquals(limiter.openFor("10.0.0.1"), 0);
  assertEquals(limiter.trackedAddresses, 0, "released addresses leave the map");
  const again = limiter.admit("10.0.0.1");
  assert(again);
  assertEquals(limiter.admit("10.0.0.1"), null);
  assertEquals(limiter.refused, 2);
});

Deno.test("per-ip limiter counts IPv4-mapped IPv6 and plain IPv4 as one address", () => {
  const limiter = new PerIpLimiter(1);
  assert(limiter.admit("::ffff:192.0.2.7"));
  assertEquals(limiter.admit("192.0.2.7"), null);
  assert(limiter.admit("2001:db8::7"));
  assertEquals(limiter.admit("2001:DB8::7"), null);
});

Deno.test("per-ip limiter with limit 0 admits everything and tracks nothing", () => {
  const limiter = new PerIpLimiter(0);
  assertEquals(limiter.enabled, false);
  for (let i = 0; i < 100; i++) assert(limiter.admit("10.0.0.1"));
  assertEquals(limiter.trackedAddresses, 0);
  assertEquals(limiter.refused, 0);
});
