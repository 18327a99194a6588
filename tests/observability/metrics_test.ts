import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import {
  CONNECTION_OUTCOMES,
  type ConnectionOutcome,
  Metrics,
  PLUGIN_ERROR_KINDS,
  type PluginErrorKind,
  RECENT_CALLS,
} from "../../src/observability/mod.ts";
import { parseSamples, sample } from "./prom_text.ts";
import { loadConfig } from "../../src/config/mod.ts";

// The label vocabularies, written out: a kind added to CONNECTION_OUTCOMES or PLUGIN_ERROR_KINDS
// without a key here fails `deno check`, one removed fails the test below.
const OUTCOMES: Record<ConnectionOutcome, true> = {
  referral: true,
  deny: true,
  no_route: true,
  no_backends: true,
  discovery_error: true,
  routing_error: true,
  maintenance: true,
  timeout: true,
  closed: true,
  protocol_error: true,
};
const ERROR_KINDS: Record<PluginErrorKind, true> = {
  timeout: true,
  trap: true,
  bad_response: true,
  unavailable: true,
};

async function scrape(metrics: Metrics): Promise<Map<string, number>> {
  return parseSamples(await metrics.render());
}

Deno.test("the outcome and error-kind labels are exactly the server's and the plugins' kinds", () => {
  assertEquals([...CONNECTION_OUTCOMES].sort(), Object.keys(OUTCOMES).sort());
  assertEquals([...PLUGIN_ERROR_KINDS].sort(), Object.keys(ERROR_KINDS).sort());
});

Deno.test("prepared routes and plugins are exported with 0 before any traffic", async () => {
  const metrics = new Metrics();
  metrics.prepareRoutes(["routes[0]", "default"]);
  metrics.preparePlugins(["auth"]);
  const s = await scrape(metrics);
  for (const route of ["routes[0]", "default", "none"]) {
    for (const outcome of CONNECTION_OUTCOMES) {
      assertEquals(sample(s, "gatehouse_connection_outcomes_total", { outcome, route }), 0);
    }
  }
  assertEquals(sample(s, "gatehouse_plugin_calls_total", { plugin: "auth" }), 0);
  for (const kind of PLUGIN_ERROR_KINDS) {
    assertEquals(sample(s, "gatehouse_plugin_errors_total", { plugin: "auth", kind }), 0);
  }
  assertEquals(sample(s, "gatehouse_connections_accepted_total"), 0);
  assertEquals(sample(s, "gatehouse_config_reloads_total", { result: "ok" }), 0);
});

Deno.test("connections, outcomes and latencies are counted (latencies in seconds)", async () => {
  const metrics = new Metrics();
  metrics.prepareRoutes(["routes[0]"]);
  metrics.connectionAccepted();
  metrics.connectionAccepted();
  metrics.outcome("referral", "routes[0]");
  metrics.outcome("referral", "routes[0]");
  metrics.outcome("timeout", null);
  metrics.outcome("no_backends", "routes[7]"); // a route not prepared still counts
  metrics.decision(3);
  metrics.reply(40);
  const s = await scrape(metrics);
  assertEquals(sample(s, "gatehouse_connections_accepted_total"), 2);
  const outcomes = "gatehouse_connection_outcomes_total";
  assertEquals(sample(s, outcomes, { outcome: "referral", route: "routes[0]" }), 2);
  assertEquals(sample(s, outcomes, { outcome: "timeout", route: "none" }), 1);
  assertEquals(sample(s, outcomes, { outcome: "no_backends", route: "routes[7]" }), 1);
  assertEquals(sample(s, "gatehouse_decision_duration_seconds_count"), 1);
  assertEquals(sample(s, "gatehouse_decision_duration_seconds_sum"), 0.003);
  assertEquals(sample(s, "gatehouse_decision_duration_seconds_bucket", { le: "0.0025" }), 0);
  assertEquals(sample(s, "gatehouse_decision_duration_seconds_bucket", { le: "0.005" }), 1);
  assertEquals(sample(s, "gatehouse_reply_duration_seconds_sum"), 0.04);
});

Deno.test("plugin calls are counted per plugin with errors by kind", async () => {
  const metrics = new Metrics();
  metrics.pluginCall("auth", 2, null);
  metrics.pluginCall("auth", 50, "timeout");
  metrics.pluginCall("auth", 1, "trap");
  metrics.pluginCall("shape", 1, "bad_response");
  const s = await scrape(metrics);
  assertEquals(sample(s, "gatehouse_plugin_calls_total", { plugin: "auth" }), 3);
  assertEquals(sample(s, "gatehouse_plugin_calls_total", { plugin: "shape" }), 1);
  const errors = "gatehouse_plugin_errors_total";
  assertEquals(sample(s, errors, { plugin: "auth", kind: "timeout" }), 1);
  assertEquals(sample(s, errors, { plugin: "auth", kind: "trap" }), 1);
  assertEquals(sample(s, errors, { plugin: "auth", kind: "bad_response" }), 0);
  assertEquals(sample(s, errors, { plugin: "shape", kind: "bad_response" }), 1);
  assertEquals(sample(s, "gatehouse_plugin_call_duration_seconds_count", { plugin: "auth" }), 3);
  const sum = sample(s, "gatehouse_plugin_call_duration_seconds_sum", { plugin: "auth" });
  assert(Math.abs(sum - 0.053) < 1e-9, `sum ${sum}`);
});

Deno.test("config info carries only the loaded sha256; reloads by result; uptime by the clock", async () => {
  let now = 1_000;
  const metrics = new Metrics({ now: () => now });
  metrics.configLoaded("aa11");
  metrics.configLoaded("bb22");
  metrics.reload(true);
  metrics.reload(false);
  metrics.reload(false);
  now = 62_500;
  const text = await metrics.render();
  const s = parseSamples(text);
  assertEquals(sample(s, "gatehouse_config_info", { sha256: "bb22" }), 1);
  assert(!text.includes("aa11"), "the replaced config's series is gone");
  assertEquals(sample(s, "gatehouse_config_reloads_total", { result: "ok" }), 1);
  assertEquals(sample(s, "gatehouse_config_reloads_total", { result: "failed" }), 2);
  assertEquals(sample(s, "gatehouse_process_uptime_seconds"), 61.5);
  assertMatch(text, /# TYPE gatehouse_connections_accepted_total counter/);
  assertMatch(metrics.contentType, /^text\/plain; version=0\.0\.4/);
});

Deno.test("scrape hooks set read values; a throwing hook does not cost the scrape", async () => {
  const metrics = new Metrics();
  let open = true;
  metrics.beforeScrape(() => {
    throw new Error("broken hook");
  });
  metrics.beforeScrape(() => metrics.breakerState("wasm-a", open));
  assertEquals(
    sample(await scrape(metrics), "gatehouse_plugin_breaker_open", { plugin: "wasm-a" }),
    1,
  );
  open = false;
  assertEquals(
    sample(await scrape(metrics), "gatehouse_plugin_breaker_open", { plugin: "wasm-a" }),
    0,
  );
});

Deno.test("a plugin no longer reported (removed by a reload) leaves the breaker gauge", async () => {
  const metrics = new Metrics();
  let plugins = ["wasm-a", "wasm-b"];
  metrics.beforeScrape(() => plugins.forEach((p) => metrics.breakerState(p, true)));
  const first = await scrape(metrics);
  assertEquals(sample(first, "gatehouse_plugin_breaker_open", { plugin: "wasm-b" }), 1);
  plugins = ["wasm-a"];
  const second = await scrape(metrics);
  assertEquals(sample(second, "gatehouse_plugin_breaker_open", { plugin: "wasm-a" }), 1);
  assert(!second.has('gatehouse_plugin_breaker_open{plugin="wasm-b"}'));
});

Deno.test("each Metrics has its own registry", async () => {
  const one = new Metrics();
  const two = new Metrics();
  one.connectionAccepted();
  assertEquals(sample(await scrape(one), "gatehouse_connections_accepted_total"), 1);
  assertEquals(sample(await scrape(two), "gatehouse_connections_accepted_total"), 0);
});

Deno.test("abandoned workers count up per plugin, also across a reload's new transport", async () => {
  const metrics = new Metrics();
  const before = { abandoned: 0 };
  const after = { abandoned: 0 };
  let running = [before];
  metrics.beforeScrape(() =>
    running.forEach((t) => metrics.workersAbandoned("wasm-a", t, t.abandoned))
  );
  const series = { plugin: "wasm-a" };
  assertEquals(
    sample(await scrape(metrics), "gatehouse_plugin_workers_abandoned_total", series),
    0,
  );
  before.abandoned = 3;
  assertEquals(
    sample(await scrape(metrics), "gatehouse_plugin_workers_abandoned_total", series),
    3,
  );
  // A reload replaced the plugin: the new transport starts at 0, the counter does not fall.
  running = [after];
  assertEquals(
    sample(await scrape(metrics), "gatehouse_plugin_workers_abandoned_total", series),
    3,
  );
  after.abandoned = 1;
  const text = await scrape(metrics);
  assertEquals(sample(text, "gatehouse_plugin_workers_abandoned_total", series), 4);
});

Deno.test("process restarts and dropped on_disconnects count up per plugin, also across a reload", async () => {
  const metrics = new Metrics();
  const before = { restarts: 0, dropped: 0 };
  const after = { restarts: 0, dropped: 0 };
  let running = [before];
  metrics.beforeScrape(() =>
    running.forEach((t) => {
      metrics.pluginRestarts("guard", t, t.restarts);
      metrics.disconnectsDropped("guard", t, t.dropped);
    })
  );
  const series = { plugin: "guard" };
  const restarts = "gatehouse_plugin_restarts_total";
  const dropped = "gatehouse_plugin_disconnects_dropped_total";
  let text = await scrape(metrics);
  assertEquals([sample(text, restarts, series), sample(text, dropped, series)], [0, 0]);
  before.restarts = 2;
  before.dropped = 75;
  text = await scrape(metrics);
  assertEquals([sample(text, restarts, series), sample(text, dropped, series)], [2, 75]);
  // A reload replaced the plugin: the new transport starts at 0, the counters do not fall.
  running = [after];
  text = await scrape(metrics);
  assertEquals([sample(text, restarts, series), sample(text, dropped, series)], [2, 75]);
  after.restarts = 1;
  after.dropped = 5;
  text = await scrape(metrics);
  assertEquals([sample(text, restarts, series), sample(text, dropped, series)], [3, 80]);
  // Series of their own: nothing reported as abandoned workers.
  assert(!text.has('gatehouse_plugin_workers_abandoned_total{plugin="guard"}'));
});

Deno.test("config info shows the same value for configs that differ only in the referral secret", async () => {
  const config = (secret: string) =>
    loadConfig("/etc/gatehouse/config.yaml", {
      readTextFile: () => Promise.resolve(`referral: { key_id: 1, hmac_secret: '${secret}' }\n`),
    });
  const rendered: string[] = [];
  for (const secret of ["hunter2", "correct horse battery staple"]) {
    const metrics = new Metrics();
    metrics.configLoaded((await config(secret)).sha256!);
    const text = await metrics.render();
    assert(!text.includes(secret), "the secret itself never shows");
    rendered.push(text.split("\n").find((l) => l.startsWith("gatehouse_config_info{"))!);
  }
  assertMatch(rendered[0]!, /^gatehouse_config_info\{sha256="[0-9a-f]{64}"\} 1$/);
  assertEquals(rendered[1], rendered[0]);
});

Deno.test("plugin latency percentiles cover the latest RECENT_CALLS calls", () => {
  const metrics = new Metrics();
  assertEquals(metrics.pluginCounts("p"), null);
  metrics.preparePlugins(["p"]);
  assertEquals(metrics.pluginCounts("p")?.latencyMs, null, "no calls yet");
  for (let ms = 1; ms <= 100; ms++) metrics.pluginCall("p", ms, null);
  assertEquals(metrics.pluginCounts("p")?.latencyMs, { p50: 51, p99: 100, calls: 100 });
  // Older calls fall out: after RECENT_CALLS calls of 1000 ms, only those count.
  for (let i = 0; i < RECENT_CALLS; i++) metrics.pluginCall("p", 1000, "timeout");
  assertEquals(metrics.pluginCounts("p")?.latencyMs, {
    p50: 1000,
    p99: 1000,
    calls: RECENT_CALLS,
  });
  assertEquals(metrics.pluginCounts("p")?.calls, 100 + RECENT_CALLS);
});
