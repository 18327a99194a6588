/** The shared deadline timer of a gRPC plugin's calls. */
import assert from "node:assert/strict";
import { Deadlines } from "../../src/plugins/deadlines.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("deadlines: fire in deadline order, whatever the order added; cancelled never fire", async () => {
  const deadlines = new Deadlines();
  const fired: string[] = [];
  const started = performance.now();
  const at: Record<string, number> = {};
  const add = (name: string, ms: number) =>
    deadlines.add(ms, () => {
      fired.push(name);
      at[name] = performance.now() - started;
    });
  add("slow", 60);
  add("fast", 20); // shorter than the one before: inserted ahead, timer re-armed
  const cancelled = add("cancelled", 40);
  add("mid", 40);
  cancelled.cancel();
  await sleep(100);
  assert.deepEqual(fired, ["fast", "mid", "slow"]);
  assert.ok(at.fast! >= 19 && at.mid! >= 39 && at.slow! >= 59, JSON.stringify(at));
  deadlines.close();
});

Deno.test("deadlines: a cancelled head lets later ones fire on time; close stops all", async () => {
  const deadlines = new Deadlines();
  const fired: string[] = [];
  const first = deadlines.add(20, () => fired.push("first"));
  deadlines.add(30, () => fired.push("second"));
  first.cancel();
  await sleep(50);
  assert.deepEqual(fired, ["second"]);
  deadlines.add(20, () => fired.push("after close"));
  deadlines.close();
  await sleep(40);
  assert.deepEqual(fired, ["second"]);
});
