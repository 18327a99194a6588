/**
 * One conformance suite for every plugin transport (issue 13): each row of
 * tests/plugins/conformance/cases.ts runs through the real chain against a scripted plugin behind
 * WASM (both isolations), gRPC and process transports. Same input, same `ChainOutcome`, same
 * error kind — docs/plugins.md §2 and §3 hold whatever carries the call.
 */
import assert from "node:assert/strict";
import {
  type ChainOutcome,
  PluginChain,
  PluginError,
  type PluginTransport,
} from "../../src/plugins/mod.ts";
import { silentLogger } from "../support/logger.ts";
import {
  CASES,
  type ConformanceCase,
  eventOf,
  PLUGIN,
  RECOVERY_MS,
  SNI,
  START,
  TIMEOUT_SLACK_MS,
} from "./conformance/cases.ts";
import type { Harness, TransportUnderTest } from "./conformance/harness.ts";
import { grpcTransport } from "./conformance/grpc.ts";
import { processTransport } from "./conformance/process.ts";
import { wasmTransport } from "./conformance/wasm.ts";

const TRANSPORTS: readonly TransportUnderTest[] = [
  wasmTransport("worker"),
  wasmTransport("process"),
  grpcTransport(),
  processTransport(),
];

/** What one chain run gave: its outcome, the call's failure (if any) and how long it took. */
interface Run {
  readonly outcome: ChainOutcome;
  readonly error: PluginError | null;
  readonly ms: number;
}

/**
 * Runs a one-link chain over `transport` with the case's policy and timeout. (The chain is
 * left unclosed: closing it would close the transport, which the next case reuses.)
 */
async function run(
  transport: PluginTransport,
  c: Pick<ConformanceCase, "policy" | "timeoutMs">,
  username: string,
): Promise<Run> {
  const observed: { error: PluginError | null; ms: number }[] = [];
  const chain = new PluginChain(
    [{ transport, timeoutMs: c.timeoutMs, failurePolicy: c.policy }],
    silentLogger(),
    (_plugin, ms, error) => observed.push({ error, ms }),
  );
  const outcome = await chain.apply(SNI, eventOf(username), START, {
    client: "203.0.113.7:41000",
    route: { hostname: SNI, glob: false },
  });
  assert.equal(observed.length, 1, "the chain observed one call");
  return { outcome, ...observed[0]! };
}

function checkRun(c: ConformanceCase, got: Run, what = c.name): void {
  assert.equal(got.error?.kind ?? null, c.error, `${what}: ${got.error?.message ?? "no error"}`);
  assert.deepEqual(got.outcome, c.outcome, what);
  if (got.error) assert.match(got.error.message, new RegExp(`^plugin "${PLUGIN}": `));
  if (c.error === "timeout") {
    // The transport's own deadline, not the chain's backstop guard.
    assert.doesNotMatch(got.error!.message, /chain guard/);
    assert.ok(got.ms >= c.timeoutMs - 5, `settled before its deadline (${got.ms} ms)`);
    assert.ok(got.ms < c.timeoutMs + TIMEOUT_SLACK_MS, `settled ${got.ms} ms after the call`);
  }
}

/**
 * The `gone` row: answered before, `unavailable` fast while gone (twice: the second call must
 * not wait on a plugin known to be down either), answered again once back. The wait for "back"
 * retries with short pauses, bounded: a gRPC client's reconnect back-off runs on the clock, with
 * nothing to await.
 */
async function goneAndBack(t: TransportUnderTest, h: Harness, c: ConformanceCase) {
  const gone = c.gone!;
  const { transport } = h;
  const back: ConformanceCase = { ...c, outcome: gone.recovered, error: null };
  checkRun(back, await run(transport, c, gone.recoverAs), "before it goes");
  assert.equal(transport.circuitOpen, false, "calls reach the plugin");
  const restarts = transport.restarts;
  assert.equal(restarts === undefined, !t.countsRestarts, `restarts: ${restarts}`);
  await h.stop();
  for (const attempt of ["while gone", "while gone, again"]) {
    const got = await run(transport, c, c.username);
    checkRun(c, got, attempt);
    assert.ok(got.ms < gone.failsWithinMs, `${attempt}: failed after ${got.ms} ms`);
  }
  // What /metrics shows as gatehouse_plugin_breaker_open: calls are being skipped.
  assert.equal(transport.circuitOpen, true, "calls fail fast: the gauge says so");
  await h.restart();
  const until = performance.now() + RECOVERY_MS;
  for (;;) {
    const got = await run(transport, c, gone.recoverAs);
    if (got.error === null || performance.now() > until) {
      checkRun(back, got, "once back");
      assert.equal(transport.circuitOpen, false, "calls reach the plugin again");
      if (restarts !== undefined) assert.equal(transport.restarts, restarts + 1);
      return;
    }
    assert.equal(got.error.kind, "unavailable", `coming back: ${got.error.message}`);
    assert.ok(got.ms < gone.failsWithinMs, `coming back: failed after ${got.ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

Deno.test("conformance: the table's tags are unique; every row a transport leaves out exists", () => {
  const tags = CASES.map((c) => c.tag);
  assert.equal(new Set(tags).size, tags.length, tags.join(", "));
  for (const t of TRANSPORTS) {
    for (const tag of Object.keys(t.notApplicable ?? {})) assert.ok(tags.includes(tag), tag);
  }
});

for (const t of TRANSPORTS) {
  Deno.test(`conformance: ${t.name}`, async (ctx) => {
    const h = await t.start();
    try {
      for (const c of CASES) {
        const why = t.notApplicable?.[c.tag];
        if (why !== undefined) {
          await ctx.step({
            name: `${c.tag}: ${c.name} — not applicable: ${why}`,
            ignore: true,
            fn: () => {},
          });
          continue;
        }
        await ctx.step(`${c.tag}: ${c.name}`, async () => {
          if (c.gone) return await goneAndBack(t, h, c);
          checkRun(c, await run(h.transport, c, c.username));
        });
      }
    } finally {
      await h.close();
    }
  });
}
