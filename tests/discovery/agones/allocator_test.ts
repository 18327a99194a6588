import assert from "node:assert/strict";
import { AgonesAllocator, allocationRequest } from "../../../src/discovery/agones/allocator.ts";
import allocationJson from "../../fixtures/discovery/allocation.json" with { type: "json" };
import { agonesSettings } from "../provider_config.ts";

/** A clock whose sleeps are recorded and end when the test advances time. */
function manualClock() {
  let now = 0;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: (ms: number) => {
      sleeps.push(ms);
      now += ms;
      return Promise.resolve();
    },
  };
}

Deno.test("allocator: posts the GameServerAllocation and returns its game server", async () => {
  const a = agonesSettings(
    '{ mode: allocate, namespaces: [hytale], state: [Ready], selector: { labels: "agones.dev/fleet=hytale,tier in (a,b),!x" } }',
  );
  assert.deepEqual(allocationRequest(a), {
    apiVersion: "allocation.agones.dev/v1",
    kind: "GameServerAllocation",
    metadata: { generateName: "gatehouse-" },
    spec: {
      gameServerState: "Ready",
      required: {
        matchLabels: { "agones.dev/fleet": "hytale" },
        matchExpressions: [
          { key: "tier", operator: "In", values: ["a", "b"] },
          { key: "x", operator: "DoesNotExist" },
        ],
      },
    },
  });
  const posted: string[] = [];
  const allocator = new AgonesAllocator("fleet", a, (ns) => {
    posted.push(ns);
    return Promise.resolve(allocationJson);
  }, { clock: manualClock() });
  const backend = await allocator.allocate();
  assert.deepEqual([backend.host, backend.port], ["203.0.113.7", 7403]);
  assert.deepEqual(posted, ["hytale"]);
});

Deno.test("allocator: allocate_min_interval spaces allocations; callers queue for slots", async () => {
  const a = agonesSettings("{ mode: allocate, allocate_min_interval: 250ms }");
  const clock = manualClock();
  const allocator = new AgonesAllocator("fleet", a, () => Promise.resolve(allocationJson), {
    clock,
  });
  await Promise.all([allocator.allocate(), allocator.allocate(), allocator.allocate()]);
  // The first goes at once; each later one waits for the slot after the one reserved before it.
  assert.deepEqual(clock.sleeps, [250, 250]);
});

Deno.test("allocator: an API failure or an unallocated answer is an AllocationError naming the provider", async () => {
  const a = agonesSettings("{ mode: allocate }");
  const failing = new AgonesAllocator("fleet", a, () => Promise.reject(new Error("403 Forbidden")));
  await assert.rejects(failing.allocate(), (err: Error & { code?: string }) => {
    assert.equal(err.code, "allocation");
    assert.match(err.message, /discovery provider "fleet": allocation failed: 403 Forbidden/);
    return true;
  });
  const empty = new AgonesAllocator(
    "fleet",
    a,
    () => Promise.resolve({ status: { state: "UnAllocated" } }),
  );
  await assert.rejects(empty.allocate(), /no game server allocated \(UnAllocated\)/);
  const garbled = new AgonesAllocator(
    "fleet",
    a,
    () => Promise.resolve({ status: { state: 7, address: 42, ports: "none" } } as never),
  );
  await assert.rejects(garbled.allocate(), (err: Error) => {
    assert.match(
      err.message,
      /^discovery provider "fleet": allocation failed: unreadable answer: /,
    );
    return true;
  });
});

Deno.test("allocator: an API that does not answer within the timeout is an AllocationError", async () => {
  const a = agonesSettings("{ mode: allocate }");
  let aborted = false;
  const hanging = new AgonesAllocator(
    "fleet",
    a,
    (_ns, _body, signal) =>
      new Promise((_, reject) => {
        signal.addEventListener("abort", () => {
          aborted = true;
          reject(signal.reason);
        });
      }),
    { timeoutMs: 30 },
  );
  await assert.rejects(hanging.allocate(), /"fleet": allocation failed: no answer within 30 ms/);
  assert.ok(aborted, "the API request is cancelled");
});

Deno.test("allocator: a caller whose slot is past the timeout is refused at once and takes no slot", async () => {
  const a = agonesSettings("{ mode: allocate, allocate_min_interval: 400ms }");
  // Time moves only when the test says so; sleeps end at once.
  let now = 0;
  const sleeps: number[] = [];
  const clock = { now: () => now, sleep: (ms: number) => (sleeps.push(ms), Promise.resolve()) };
  const allocator = new AgonesAllocator("fleet", a, () => Promise.resolve(allocationJson), {
    clock,
    timeoutMs: 1_000,
  });
  const results = await Promise.allSettled([1, 2, 3, 4].map(() => allocator.allocate()));
  const statuses = results.map((r) => r.status);
  assert.deepEqual(statuses, ["fulfilled", "fulfilled", "fulfilled", "rejected"]);
  const refused = results[3] as PromiseRejectedResult;
  const throttled = /throttled: no slot within 1000 ms \(allocate_min_interval 400 ms\)/;
  assert.match(refused.reason.message, throttled);
  assert.deepEqual(sleeps, [400, 800]);
  // Slots 0, 400 and 800 are taken; the next is 1200. Had the refused caller taken it, the
  // next would be 1600, out of reach from 300.
  now = 300;
  await allocator.allocate();
  assert.deepEqual(sleeps, [400, 800, 900]);
});

Deno.test("allocator: selector terms other than k=v go to matchExpressions, so allocation is never wider", () => {
  const a = agonesSettings(
    '{ mode: allocate, selector: { labels: "fleet=hytale,region in (eu,us),tier!=canary,ranked,!test" } }',
  );
  const body = allocationRequest(a) as { spec: { required: unknown } };
  assert.deepEqual(body.spec.required, {
    matchLabels: { fleet: "hytale" },
    matchExpressions: [
      { key: "region", operator: "In", values: ["eu", "us"] },
      { key: "tier", operator: "NotIn", values: ["canary"] },
      { key: "ranked", operator: "Exists" },
      { key: "test", operator: "DoesNotExist" },
    ],
  });
});

Deno.test("allocator: the API call gets the whole timeout after the slot wait", async () => {
  const a = agonesSettings("{ mode: allocate, allocate_min_interval: 150ms }");
  // Real timers: the second caller waits ~150 ms for its slot, then the API answers in 100 ms.
  // Had the wait counted against the 200 ms timeout, only ~50 ms would be left for the call.
  const answerIn100Ms = () =>
    new Promise<typeof allocationJson>((resolve) => setTimeout(() => resolve(allocationJson), 100));
  const allocator = new AgonesAllocator("fleet", a, answerIn100Ms, { timeoutMs: 200 });
  const [first, second] = await Promise.allSettled([allocator.allocate(), allocator.allocate()]);
  assert.equal(first.status, "fulfilled");
  assert.equal(second.status, "fulfilled", String((second as PromiseRejectedResult).reason));
  assert.deepEqual(allocator.allocations(), { ok: 2, failed: 0 });
});
