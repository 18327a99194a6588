/**
 * What metrics cost one connection: the calls the pipeline makes per connection, against
 * prom-client's own labelled children for the same outcome counter.
 *
 *   deno bench --no-prompt bench/metrics_bench.ts
 */
import { Counter, Registry } from "prom-client";
import { Metrics } from "../src/observability/mod.ts";

const metrics = new Metrics();
metrics.prepareRoutes(["routes[0]", "routes[1]", "default"]);
metrics.preparePlugins(["auth"]);
const route: string | null = ["routes[1]"][0] ?? null;

Deno.bench("per connection: accepted, decision, reply, outcome", { group: "connection" }, () => {
  metrics.connectionAccepted();
  metrics.decision(0.2);
  metrics.reply(0.9);
  metrics.outcome("referral", route);
});

const registry = new Registry();
const counter = new Counter({
  name: "outcomes_total",
  help: "h",
  labelNames: ["outcome", "route"],
  registers: [registry],
});
const child = counter.labels("referral", "routes[1]");
Deno.bench("prom-client labelled child inc (outcome only)", { group: "outcome" }, () => {
  child.inc();
});
Deno.bench("Metrics.outcome", { group: "outcome", baseline: true }, () => {
  metrics.outcome("referral", route);
});

Deno.bench("per plugin call", { group: "plugin" }, () => {
  metrics.pluginCall("auth", 0.05, null);
});
