/** The per-plugin verdicts `apply` reports for decision records and explain. */
import assert from "node:assert/strict";
import {
  type ChainState,
  loadChain,
  PluginError,
  type PluginVerdict,
} from "../../src/plugins/mod.ts";
import type { PluginConfig } from "../../src/config/mod.ts";
import { type FakeBehaviour, FakeTransport, SAMPLE_EVENT } from "./fake_transport.ts";
import { silentLogger } from "../support/logger.ts";

const a = { host: "a", port: 1, weight: 1, meta: null };
const start: ChainState = {
  strategy: "round_robin",
  candidates: [a],
  selectedIndex: 0,
  backend: a,
  referralContent: new Uint8Array(0),
};

function config(name: string, failurePolicy: "continue" | "deny"): PluginConfig {
  return {
    name,
    type: "grpc",
    stage: "route",
    before: [],
    after: [],
    timeoutMs: 50,
    failurePolicy,
    grpc: { address: "127.0.0.1:1" },
  };
}

async function verdictsOf(
  plugins: [string, "continue" | "deny", FakeBehaviour][],
): Promise<PluginVerdict[]> {
  const behaviours = new Map(plugins.map(([name, , behaviour]) => [name, behaviour]));
  const chain = await loadChain(
    plugins.map(([name, policy]) => config(name, policy)),
    (c) => Promise.resolve(new FakeTransport(c.name, behaviours.get(c.name)!)),
    silentLogger(),
  );
  const verdicts: PluginVerdict[] = [];
  await chain.apply("x", SAMPLE_EVENT, start, undefined, verdicts);
  await chain.close();
  return verdicts;
}

const failing: FakeBehaviour = () => new PluginError("p", "trap", "boom");

Deno.test("verdicts: one per plugin in order; a deny skips the rest", async () => {
  const verdicts = await verdictsOf([
    ["ok", "continue", () => ({})],
    ["broken", "continue", failing],
    ["gate", "continue", () => ({ deny: true, deny_reason: "no" })],
    ["after", "continue", () => ({})],
  ]);
  assert.deepEqual(verdicts.map((v) => [v.plugin, v.verdict]), [
    ["ok", "continue"],
    ["broken", "error"],
    ["gate", "deny"],
    ["after", "skipped"],
  ]);
  assert.equal(verdicts[1]!.error, `trap: plugin "p": boom`);
  assert.equal(verdicts[2]!.answer?.denyReason, "no");
  assert.equal(verdicts[3]!.ms, 0);
  assert.ok(verdicts.every((v) => v.ms >= 0));
});

Deno.test("verdicts: a failure under failure_policy deny is the deny, with its error", async () => {
  const verdicts = await verdictsOf([
    ["strict", "deny", failing],
    ["after", "continue", () => ({})],
  ]);
  assert.deepEqual(verdicts.map((v) => [v.plugin, v.verdict, v.error]), [
    ["strict", "deny", `trap: plugin "p": boom`],
    ["after", "skipped", undefined],
  ]);
});
