import { assert, assertEquals, assertRejects } from "../support/assert.ts";
import {
  type ChainState,
  type ConnectionEnd,
  loadChain,
  PluginError,
  type PluginVerdict,
} from "../../src/plugins/mod.ts";
import type { PluginConfig } from "../../src/config/mod.ts";
import { Logger } from "../../src/observability/mod.ts";
import {
  type FakeBehaviour,
  FakeConnectTransport,
  FakeTransport,
  SAMPLE_EVENT,
} from "./fake_transport.ts";
import { silentLogger } from "../support/logger.ts";

const event = { ...SAMPLE_EVENT, language: "en" };
const a = { host: "a", port: 1, weight: 1, meta: null };
const b = { host: "b", port: 2, weight: 1, meta: null };
const start: ChainState = {
  strategy: "round_robin",
  candidates: [a, b],
  selectedIndex: 0,
  backend: a,
  referralContent: new Uint8Array(0),
};

function config(name: string, policy: "continue" | "deny" = "continue"): PluginConfig {
  return {
    name,
    type: "grpc",
    stage: "route",
    before: [],
    after: [],
    timeoutMs: 50,
    failurePolicy: policy,
    grpc: { address: "127.0.0.1:1" },
  };
}

async function chainOf(plugins: [string, FakeBehaviour, ("continue" | "deny")?][]) {
  const lines: string[] = [];
  const logger = new Logger({
    level: "debug",
    format: "json",
    sink: { write: (l) => lines.push(l), now: () => new Date(0) },
  });
  const fakes = new Map(plugins.map(([name, fn]) => [name, new FakeTransport(name, fn)]));
  const chain = await loadChain(
    plugins.map(([name, , policy]) => config(name, policy)),
    (c) => Promise.resolve(fakes.get(c.name)!),
    logger,
  );
  return { chain, fakes, lines };
}

Deno.test("plugins run in order, each seeing the state the previous one left", async () => {
  const { chain, fakes } = await chainOf([
    ["first", () => ({ selected_index: 1, referral_content: "YQ==" })],
    ["second", () => ({})],
  ]);
  const out = await chain.apply("sni", event, start);
  assert(out.kind === "continue");
  assertEquals(out.state.backend, b);
  assertEquals(out.state.selectedIndex, 1);
  assertEquals(new TextDecoder().decode(out.state.referralContent), "a");
  const seen = fakes.get("second")!.requests[0]!;
  assertEquals([seen.selected_index, seen.referral_content], [1, "YQ=="]);
});

Deno.test("an unobserved apply (explain) passes observed: false to every transport", async () => {
  const { chain, fakes } = await chainOf([["first", () => ({})], ["second", () => ({})]]);
  await chain.apply("sni", event, start);
  await chain.apply("sni", event, start, undefined, undefined, false);
  for (const fake of fakes.values()) {
    assertEquals(fake.options, [undefined, { observed: false }]);
  }
});

Deno.test("deny stops the chain with the plugin's reason", async () => {
  const { chain, fakes } = await chainOf([
    ["gate", () => ({ deny: true, deny_reason: "banned" })],
    ["never", () => ({})],
  ]);
  assertEquals(await chain.apply("sni", event, start), {
    kind: "deny",
    plugin: "gate",
    reason: "banned",
  });
  assertEquals(fakes.get("never")!.requests.length, 0);
});

Deno.test("a failing plugin is skipped with continue, and logged with its name", async () => {
  const { chain, lines } = await chainOf([
    ["broken", () => new PluginError("broken", "trap", "unreachable executed")],
    ["ok", () => ({ backend: { host: "b", port: 2 } })],
  ]);
  const out = await chain.apply("sni", event, start);
  assert(out.kind === "continue");
  assertEquals(out.state.selectedIndex, 1);
  const line = lines.map((l) => JSON.parse(l)).find((l) => l.msg === "plugin call failed");
  assertEquals([line.plugin, line.kind], ["broken", "trap"]);
});

Deno.test("failure_policy deny turns an error or timeout into a deny without a reason", async () => {
  const { chain } = await chainOf([["slow", () => "hang", "deny"]]);
  assertEquals(await chain.apply("sni", event, start), {
    kind: "deny",
    plugin: "slow",
    reason: null,
  });
});

Deno.test("a garbage response counts as a plugin error, not a crash", async () => {
  const { chain, lines } = await chainOf([["junk", () => new TextEncoder().encode("{{")]]);
  const out = await chain.apply("sni", event, start);
  assertEquals(out, { kind: "continue", state: start });
  assert(lines.some((l) => l.includes('"kind":"bad_response"')));
});

Deno.test("steps 3–6: candidates replace, out-of-range index ignored, backend matched, index 0 fallback", async () => {
  const c = { host: "c", port: 3, weight: 1, meta: null };
  const cases: [unknown, ChainState][] = [
    [{ candidates: [c] }, { ...start, candidates: [c] }],
    [{ candidates: [] }, start],
    [{ selected_index: 5 }, start],
    [{ backend: { host: "z", port: 9 } }, {
      ...start,
      backend: { host: "z", port: 9, weight: 0, meta: null },
    }],
    [{ candidates: [b, c], backend: { host: "c", port: 3 } }, {
      ...start,
      candidates: [b, c],
      selectedIndex: 1,
      backend: { host: "c", port: 3, weight: 0, meta: null },
    }],
    [{ backend: { host: "", port: 0 } }, { ...start, selectedIndex: 0, backend: a }],
  ];
  for (const [response, expected] of cases) {
    const { chain } = await chainOf([["p", () => response]]);
    assertEquals(await chain.apply("sni", event, start), { kind: "continue", state: expected });
  }
});

Deno.test("a plugin that cannot load stops the load naming it and closes the others", async () => {
  const loaded = new FakeTransport("one", () => ({}));
  const err = await assertRejects(
    () =>
      loadChain(
        [config("one"), config("two")],
        (c) =>
          c.name === "one"
            ? Promise.resolve(loaded)
            : Promise.reject(new PluginError("two", "load", "missing export on_connect")),
        silentLogger(),
      ),
    PluginError,
  );
  assertEquals(err.plugin, "two");
  assert(err.message.includes('plugin "two"') && err.message.includes("on_connect"));
  assert(loaded.closed);
});

Deno.test("a transport that never settles is cut off by the chain's own guard", async () => {
  const never = {
    name: "stuck",
    call: () => new Promise<Uint8Array>(() => {}),
    close: () => Promise.resolve(),
  };
  const logger = silentLogger();
  const chain = await loadChain([config("stuck")], () => Promise.resolve(never), logger);
  const started = performance.now();
  const out = await chain.apply("sni", event, start);
  assertEquals(out, { kind: "continue", state: start });
  // timeout 50 ms + the guard's margin; far below "forever".
  assert(performance.now() - started < 2_000);
});

Deno.test("a structured transport gets the call with its context; JSON ones are unchanged", async () => {
  const structured = new FakeConnectTransport("proc", {
    deny: false,
    denyReason: "",
    candidates: null,
    selectedIndex: null,
    backend: { host: "c", port: 3, weight: 0, meta: null },
    referralContent: new Uint8Array([9]),
  });
  const { calls, ends } = structured;
  const json = new FakeTransport("json", () => ({}));
  const chain = await loadChain(
    [config("proc"), config("json")],
    (c) => Promise.resolve(c.name === "proc" ? structured : json),
    silentLogger(),
  );
  const route = { hostname: "*.example.com", glob: true };
  const outcome = await chain.apply("play.example.com", event, start, {
    client: "203.0.113.7:41000",
    route,
  });
  assertEquals(calls.length, 1);
  assertEquals(calls[0]!.client, "203.0.113.7:41000");
  assertEquals(calls[0]!.route, route);
  assertEquals(calls[0]!.sni, "play.example.com");
  assertEquals(calls[0]!.state, start);
  // The JSON plugin after it saw the structured plugin's steer, as JSON.
  assertEquals((json.requests[0]!.backend as { host: string }).host, "c");
  assert(outcome.kind === "continue");
  assertEquals(outcome.state.backend?.host, "c");
  assertEquals(outcome.state.referralContent, new Uint8Array([9]));

  const end: ConnectionEnd = {
    client: "203.0.113.7:41000",
    target: "c:3",
    outcome: "referral",
    rxBytes: 10,
    txBytes: 20,
    durationMs: 5,
    username: "Krymo",
    uuid: "",
  };
  chain.connectionEnded(end);
  assertEquals(ends, [end]);
});

// The per-plugin verdicts `apply` reports for decision records and explain.

async function verdictsOf(
  plugins: [string, FakeBehaviour, ("continue" | "deny")?][],
): Promise<PluginVerdict[]> {
  const { chain } = await chainOf(plugins);
  const verdicts: PluginVerdict[] = [];
  await chain.apply("x", event, start, undefined, verdicts);
  await chain.close();
  return verdicts;
}

const failing: FakeBehaviour = () => new PluginError("p", "trap", "boom");

Deno.test("verdicts: one per plugin in order; a deny skips the rest", async () => {
  const verdicts = await verdictsOf([
    ["ok", () => ({})],
    ["broken", failing],
    ["gate", () => ({ deny: true, deny_reason: "no" })],
    ["after", () => ({})],
  ]);
  assertEquals(verdicts.map((v) => [v.plugin, v.verdict]), [
    ["ok", "continue"],
    ["broken", "error"],
    ["gate", "deny"],
    ["after", "skipped"],
  ]);
  assertEquals(verdicts[1]!.error, `trap: plugin "p": boom`);
  assertEquals(verdicts[2]!.answer?.denyReason, "no");
  assertEquals(verdicts[3]!.ms, 0);
  assert(verdicts.every((v) => v.ms >= 0));
});

Deno.test("verdicts: a failure under failure_policy deny is the deny, with its error", async () => {
  const verdicts = await verdictsOf([["strict", failing, "deny"], ["after", () => ({})]]);
  assertEquals(verdicts.map((v) => [v.plugin, v.verdict, v.error]), [
    ["strict", "deny", `trap: plugin "p": boom`],
    ["after", "skipped", undefined],
  ]);
});
