/** The one timer queue of plugin deadlines, driven by a manual clock. */
import assert from "node:assert/strict";
import { Watchdog, type WatchdogClock } from "../../src/plugins/watchdog.ts";

/** A clock whose time moves only when the test says; timers fire as time passes them. */
class ManualClock implements WatchdogClock {
  time = 1000;
  #next = 1;
  readonly timers = new Map<number, { at: number; fn: () => void }>();
  now(): number {
    return this.time;
  }
  setTimer(fn: () => void, ms: number): number {
    this.timers.set(this.#next, { at: this.time + ms, fn });
    return this.#next++;
  }
  clearTimer(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  /** Moves time to `to`, firing due timers in order. */
  advance(to: number): void {
    for (;;) {
      const due = [...this.timers].filter(([, t]) => t.at <= to).sort((a, b) => a[1].at - b[1].at);
      const first = due[0];
      if (!first) break;
      this.timers.delete(first[0]);
      this.time = Math.max(this.time, first[1].at);
      first[1].fn();
    }
    this.time = to;
  }
}

Deno.test("watchdog: alarms fire in time order, whatever the order armed; cleared never fire", () => {
  const clock = new ManualClock();
  const watchdog = new Watchdog(clock);
  const fired: string[] = [];
  const arm = (name: string, ms: number) =>
    watchdog.arm(ms, () => fired.push(`${name}@${clock.now() - 1000}`));
  arm("slow", 60);
  arm("fast", 20); // earlier than the one before: the timer is re-armed for it
  const cleared = arm("cleared", 40);
  arm("mid", 40);
  arm("mid2", 40); // equal times fire in the order armed
  cleared.clear();
  cleared.clear(); // harmless
  clock.advance(1019);
  assert.deepEqual(fired, []);
  clock.advance(1100);
  assert.deepEqual(fired, ["fast@20", "mid@40", "mid2@40", "slow@60"]);
  assert.equal(watchdog.pending, 0);
  assert.equal(clock.timers.size, 0, "a quiet watchdog holds no timer");
});

Deno.test("watchdog: one platform timer however many alarms", () => {
  const clock = new ManualClock();
  const watchdog = new Watchdog(clock);
  let fired = 0;
  for (let i = 0; i < 1000; i++) watchdog.arm(200 + (i % 7), () => fired++);
  assert.equal(clock.timers.size, 1);
  clock.advance(1300);
  assert.equal(fired, 1000);
});

Deno.test("watchdog: cleared alarms do not pile up while calls keep settling", () => {
  const clock = new ManualClock();
  const watchdog = new Watchdog(clock);
  // A long-lived alarm at the top, and many short calls that settle before their deadline.
  watchdog.arm(60_000, () => {});
  const late = watchdog.arm(120_000, () => {});
  for (let i = 0; i < 50_000; i++) watchdog.armAt(clock.now() + 100_000 + i, () => {}).clear();
  assert.equal(watchdog.pending, 2);
  late.clear();
  assert.equal(watchdog.pending, 1);
});

Deno.test("watchdog: a callback may arm and clear alarms; close stops everything", () => {
  const clock = new ManualClock();
  const watchdog = new Watchdog(clock);
  const fired: string[] = [];
  const victim = watchdog.arm(30, () => fired.push("victim"));
  watchdog.arm(10, () => {
    fired.push("first");
    victim.clear();
    watchdog.arm(5, () => fired.push("re-armed"));
  });
  clock.advance(1050);
  assert.deepEqual(fired, ["first", "re-armed"]);
  watchdog.arm(10, () => fired.push("after close"));
  watchdog.close();
  watchdog.arm(10, () => fired.push("armed after close"));
  clock.advance(1100);
  assert.deepEqual(fired, ["first", "re-armed"]);
  assert.equal(clock.timers.size, 0);
});

Deno.test("watchdog: real timers fire at or after their time", async () => {
  const watchdog = new Watchdog();
  const started = performance.now();
  const at = await new Promise<number>((resolve) =>
    watchdog.arm(20, () => resolve(performance.now() - started))
  );
  assert.ok(at >= 19, `fired after ${at} ms`);
  watchdog.close();
});

Deno.test("watchdog: an alarm further away than a platform timer can wait fires on time", () => {
  const clock = new ManualClock();
  const watchdog = new Watchdog(clock);
  const far = 2 ** 31 + 5_000;
  let fired = false;
  watchdog.arm(far, () => fired = true);
  const [timer] = [...clock.timers.values()];
  assert.ok(timer && timer.at - clock.now() <= 2 ** 31 - 1, "the timer delay is clamped");
  clock.advance(1000 + 2 ** 31 - 1);
  assert.equal(fired, false, "nothing due at the clamped timer: re-armed for the rest");
  clock.advance(1000 + far);
  assert.equal(fired, true);
});

Deno.test("watchdog: a callback that throws does not stop the others", () => {
  const clock = new ManualClock();
  const watchdog = new Watchdog(clock);
  const fired: string[] = [];
  const errors: unknown[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => errors.push(args);
  try {
    watchdog.arm(10, () => {
      throw new Error("bug");
    });
    watchdog.arm(10, () => fired.push("same time"));
    watchdog.arm(20, () => fired.push("later"));
    clock.advance(1050);
  } finally {
    console.error = original;
  }
  assert.deepEqual(fired, ["same time", "later"]);
  assert.equal(errors.length, 1);
});
