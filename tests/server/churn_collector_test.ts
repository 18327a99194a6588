/** The collector of ended connections' wrappers, on a manual clock and a counting `gc`. */
import { ChurnCollector } from "../../src/server/churn_collector.ts";
import { assertEquals } from "../support/assert.ts";

Deno.test("churn collector: collects after `every` ended connections, at most once per interval", () => {
  let now = 0;
  let collected = 0;
  const collector = new ChurnCollector(() => collected++, () => now, 10, 1_000);
  for (let i = 0; i < 9; i++) collector.ended();
  now = 5_000;
  assertEquals(collected, 0, "9 ended: below the count");
  collector.ended();
  assertEquals(collected, 1);
  // A storm: 1,000 more within half a second make no second collection yet.
  for (let i = 0; i < 1_000; i++) collector.ended();
  now = 5_500;
  collector.ended();
  assertEquals(collected, 1, "within the interval");
  now = 6_000;
  collector.ended();
  assertEquals([collected, collector.collections], [2, 2]);
});

Deno.test("churn collector: without an exposed gc it does nothing", () => {
  const collector = new ChurnCollector(null, () => 1e9, 1, 0);
  for (let i = 0; i < 100; i++) collector.ended();
  assertEquals(collector.collections, 0);
});
