/**
 * Handshakes that never complete — a spoofer's Initials with a victim's address, or a client
 * that stalls on purpose — must not cost the address's owner its budget: they are admitted at
 * 0.5-RTT as pending, spend no token, take no slot, and the oldest are evicted when a prefix (or
 * the router) has too many. The stalled clients come from 127.0.0.1 through relays that drop the
 * router's answers (`stalling_relay.ts`); the victim is 127.0.0.1 itself.
 */
import { parseConfig } from "../../src/config/mod.ts";
import { Metrics } from "../../src/observability/mod.ts";
import { GatehouseServer } from "../../src/server/mod.ts";
import { assert, assertEquals } from "../support/assert.ts";
import { silentLogger } from "../support/logger.ts";
import { refusals } from "./refusals.ts";
import { askConnect } from "../support/router_harness.ts";
import { StalledHandshakes } from "../support/stalling_relay.ts";

const STALLED = 40;

const CONFIG = parseConfig(
  `
listen: "127.0.0.1:0"
limits:
  connect_timeout: 30s
  max_connections_per_ip: 2
  handshake_rate: { per_second: 1, burst: 2 }
routing:
  default:
    strategy: round_robin
    backends:
      - { host: default.internal, port: 5520 }
`,
  "stalled.yaml",
);

Deno.test(`${STALLED} stalled handshakes from a player's address leave the player its budget`, async () => {
  const metrics = new Metrics();
  const server = await GatehouseServer.start(CONFIG, { logger: silentLogger(), metrics });
  const stalled = new StalledHandshakes();
  try {
    stalled.start(server.addr.port, STALLED);
    // Bounded polling: the router exposes no event for a handshake it is waiting on.
    for (let i = 0; i < 500 && (await refusals(metrics)).handshake_limit < STALLED - 2; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    const before = await refusals(metrics);
    assert(before.handshake_limit >= STALLED - 2, JSON.stringify(before));
    assertEquals(server.admission.pending, 2, "max_connections_per_ip pending for the prefix");
    assertEquals(server.admission.open, 0);
    // The player behind 127.0.0.1: its bucket (burst 2) and its 2 slots are untouched.
    for (const name of ["First", "Second"]) {
      assertEquals((await askConnect(server.addr.port, "play.example.com", name)).id, 18, name);
    }
    const after = await refusals(metrics);
    assertEquals([after.rate_limit, after.per_ip_limit, after.capacity], [0, 0, 0]);
  } finally {
    await stalled.close();
    await server.close(1_000);
  }
});
