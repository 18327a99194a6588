/** Metrics recorded by the real router over QUIC, with in-memory plugin transports. */
import { assert, assertEquals } from "../support/assert.ts";
import { askConnect, converse, startRouter } from "../support/router_harness.ts";
import { Metrics } from "../../src/observability/mod.ts";
import { PluginError } from "../../src/plugins/mod.ts";
import { type FakeBehaviour, FakeTransport } from "../plugins/fake_transport.ts";
import { parseSamples, sample } from "./prom_text.ts";

const ROUTES = `
listen: "127.0.0.1:0"
routing:
  routes:
    - match: { hostname: "play.example" }
      pool: { strategy: round_robin, backends: [{ host: a.internal, port: 5520 }] }
    - match: { hostname: "lobby.example" }
      pool: { strategy: round_robin, backends: [{ host: b.internal, port: 5520 }] }
`;

Deno.test("connections are counted by outcome and config route label, never by SNI or name", async () => {
  const metrics = new Metrics();
  const router = await startRouter(ROUTES, {}, undefined, metrics);
  try {
    await askConnect(router.port, "play.example", "SecretPlayer");
    await askConnect(router.port, "PLAY.example", "SecretPlayer");
    await askConnect(router.port, "lobby.example", "SecretPlayer");
    await askConnect(router.port, "unknown-sni.example", "SecretPlayer");
    // A negative frame length: protocol_error before any route is chosen.
    const negativeLength = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
    await converse(router.port, { sni: "play.example", writes: [negativeLength] });
  } finally {
    await router.close(); // waits for the connections in flight, so every outcome is recorded
  }
  const text = await metrics.render();
  const s = parseSamples(text);
  const outcomes = "gatehouse_connection_outcomes_total";
  assertEquals(sample(s, "gatehouse_connections_accepted_total"), 5);
  assertEquals(sample(s, outcomes, { outcome: "referral", route: "routes[0]" }), 2);
  assertEquals(sample(s, outcomes, { outcome: "referral", route: "routes[1]" }), 1);
  assertEquals(sample(s, outcomes, { outcome: "no_route", route: "none" }), 1);
  assertEquals(sample(s, outcomes, { outcome: "protocol_error", route: "none" }), 1);
  assertEquals(sample(s, "gatehouse_decision_duration_seconds_count"), 4);
  assertEquals(sample(s, "gatehouse_reply_duration_seconds_count"), 4);
  const routes = new Set(
    [...text.matchAll(/route="([^"]*)"/g)].map((m) => m[1]),
  );
  assertEquals([...routes].sort(), ["none", "routes[0]", "routes[1]"]);
  for (const clientText of ["SecretPlayer", "unknown-sni", "play.example", "PLAY"]) {
    assert(!text.includes(clientText), `client input "${clientText}" leaked into a label`);
  }
});

const PLUGINS = `
listen: "127.0.0.1:0"
routing:
  default: { strategy: round_robin, backends: [{ host: a.internal, port: 5520 }] }
plugins:
  - { name: slow, type: grpc, stage: deny, grpc: { address: 127.0.0.1:1 } }
  - { name: junk, type: grpc, stage: route, grpc: { address: 127.0.0.1:2 } }
  - { name: gate, type: wasm, stage: mutate, wasm: { path: x.wasm } }
`;

/** A fake whose circuit breaker state and process counters the chain can report. */
class BreakerFake extends FakeTransport {
  circuitOpen = false;
  restarts?: number;
  disconnectsDropped?: number;
}

Deno.test("plugin calls are counted per configured plugin, errors by kind, breakers and process counters read", async () => {
  const behaviours: Record<string, FakeBehaviour> = {
    slow: () => "hang", // the fake's timeout PluginError
    junk: () => new TextEncoder().encode("{{"),
    gate: (req) =>
      (req.event as { username: string }).username === "trap"
        ? new PluginError("gate", "trap", "unreachable")
        : {},
  };
  const fakes = new Map(
    Object.entries(behaviours).map(([n, fn]) => [n, new BreakerFake(n, fn)]),
  );
  const metrics = new Metrics();
  const router = await startRouter(
    PLUGINS,
    {},
    (c) => Promise.resolve(fakes.get(c.name)!),
    metrics,
  );
  try {
    await askConnect(router.port, "any.example", "fine");
    await askConnect(router.port, "any.example", "trap");
    fakes.get("gate")!.circuitOpen = true;
    Object.assign(fakes.get("junk")!, { restarts: 2, disconnectsDropped: 7 });
    const s = parseSamples(await metrics.render());
    assertEquals(sample(s, "gatehouse_plugin_breaker_open", { plugin: "gate" }), 1);
    assertEquals(sample(s, "gatehouse_plugin_breaker_open", { plugin: "slow" }), 0);
    // Read from the transports that have them; none for those that do not.
    assertEquals(sample(s, "gatehouse_plugin_restarts_total", { plugin: "junk" }), 2);
    assertEquals(sample(s, "gatehouse_plugin_disconnects_dropped_total", { plugin: "junk" }), 7);
    assert(!s.has('gatehouse_plugin_restarts_total{plugin="gate"}'));
    assert(!s.has('gatehouse_plugin_disconnects_dropped_total{plugin="slow"}'));
  } finally {
    await router.close();
  }
  const s = parseSamples(await metrics.render());
  const errors = "gatehouse_plugin_errors_total";
  for (const plugin of ["slow", "junk", "gate"]) {
    assertEquals(sample(s, "gatehouse_plugin_calls_total", { plugin }), 2);
    assertEquals(sample(s, "gatehouse_plugin_call_duration_seconds_count", { plugin }), 2);
  }
  assertEquals(sample(s, errors, { plugin: "slow", kind: "timeout" }), 2);
  assertEquals(sample(s, errors, { plugin: "junk", kind: "bad_response" }), 2);
  assertEquals(sample(s, errors, { plugin: "gate", kind: "trap" }), 1);
  assertEquals(sample(s, errors, { plugin: "gate", kind: "timeout" }), 0);
  assertEquals(
    sample(s, "gatehouse_connection_outcomes_total", { outcome: "referral", route: "default" }),
    2,
  );
});
