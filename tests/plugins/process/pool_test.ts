import assert from "node:assert/strict";
import { type HookConn, HookPool } from "../../../src/plugins/process/pool.ts";
import { PluginError } from "../../../src/plugins/transport.ts";
import { Watchdog } from "../../../src/plugins/watchdog.ts";

const frame = (payload: Uint8Array) => {
  const f = new Uint8Array(4 + payload.length);
  new DataView(f.buffer).setUint32(0, payload.length);
  f.set(payload, 4);
  return f;
};

/** What the fake plugin does with one request payload: reply bytes (a whole frame) or never. */
type Handler = (payload: Uint8Array, conn: FakeConn) => Promise<Uint8Array | null>;

/** An in-memory hook connection to a scripted plugin; counts requests in flight on it. */
class FakeConn implements HookConn {
  closed = false;
  inFlight = 0;
  maxInFlight = 0;
  #in: number[] = [];
  #out: number[] = [];
  #wake: (() => void) | null = null;
  constructor(readonly id: number, readonly handler: Handler) {}

  write(p: Uint8Array): Promise<number> {
    if (this.closed) return Promise.reject(new Error("closed"));
    this.#in.push(...p);
    while (this.#in.length >= 4) {
      const len = new DataView(Uint8Array.from(this.#in.slice(0, 4)).buffer).getUint32(0);
      if (this.#in.length < 4 + len) break;
      const payload = Uint8Array.from(this.#in.splice(0, 4 + len).slice(4));
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      this.handler(payload, this).then((reply) => {
        this.inFlight--;
        if (reply && !this.closed) this.#out.push(...reply);
        this.#wake?.();
      });
    }
    return Promise.resolve(p.length);
  }

  async read(p: Uint8Array): Promise<number | null> {
    while (this.#out.length === 0) {
      if (this.closed) return null;
      await new Promise<void>((r) => this.#wake = r);
    }
    const n = Math.min(p.length, this.#out.length);
    p.set(this.#out.splice(0, n));
    return n;
  }

  close(): void {
    this.closed = true;
    this.#wake?.();
  }
}

function setup(size: number, handler: Handler) {
  const conns: FakeConn[] = [];
  const watchdog = new Watchdog();
  const pool = new HookPool({
    plugin: "guard",
    path: "/nowhere",
    size,
    watchdog,
    connect: () => {
      const c = new FakeConn(conns.length, handler);
      conns.push(c);
      return Promise.resolve(c);
    },
  });
  return { pool, conns, done: () => (pool.close(), watchdog.close()) };
}

const echoAfter = (ms: number): Handler => async (payload) => {
  await new Promise((r) => setTimeout(r, ms));
  return frame(payload);
};

Deno.test("pool: at most size connections, one call at a time on each", async () => {
  const { pool, conns, done } = setup(2, echoAfter(20));
  const answers = await Promise.all(
    [1, 2, 3, 4, 5].map((i) => pool.call(frame(new Uint8Array([i])), 2_000, true)),
  );
  assert.deepEqual(answers.map((a) => a![0]), [1, 2, 3, 4, 5], "each call got its own answer");
  assert.equal(conns.length, 2);
  assert.ok(conns.every((c) => c.maxInFlight === 1));
  done();
});

Deno.test("pool: a call past its deadline abandons its connection; the next one works", async () => {
  let hang = true;
  const { pool, conns, done } = setup(
    1,
    (payload) => hang ? new Promise(() => {}) : echoAfter(0)(payload, conns[0]!),
  );
  const started = performance.now();
  const err = await pool.call(frame(new Uint8Array([1])), 50, true).catch((e) => e);
  assert.ok(err instanceof PluginError && err.kind === "timeout", String(err));
  assert.ok(performance.now() - started < 1_000);
  assert.equal(conns[0]!.closed, true, "the abandoned connection is closed");
  assert.equal(pool.abandoned, 1);
  hang = false;
  assert.deepEqual(await pool.call(frame(new Uint8Array([2])), 2_000, true), new Uint8Array([2]));
  assert.equal(conns.length, 2, "a new connection carried the next call");
  done();
});

Deno.test("pool: a call waiting for a busy connection still fails at its own deadline", async () => {
  const { pool, done } = setup(1, echoAfter(1_000));
  const first = pool.call(frame(new Uint8Array([1])), 3_000, true);
  const started = performance.now();
  const err = await pool.call(frame(new Uint8Array([2])), 50, true).catch((e) => e);
  const waited = performance.now() - started;
  assert.ok(err instanceof PluginError && err.kind === "timeout", String(err));
  assert.ok(waited < 800, `failed after ${waited} ms, not when the busy call ended`);
  assert.deepEqual(await first, new Uint8Array([1]));
  done();
});

Deno.test("pool: an oversized answer is bad_response and drops that connection", async () => {
  let big = true;
  const { pool, conns, done } = setup(1, (payload) => {
    if (!big) return Promise.resolve(frame(payload));
    return Promise.resolve(Uint8Array.from([0x00, 0x20, 0x00, 0x00, 1, 2, 3]));
  });
  const err = await pool.call(frame(new Uint8Array([1])), 2_000, true).catch((e) => e);
  assert.ok(err instanceof PluginError && err.kind === "bad_response", String(err));
  assert.equal(conns[0]!.closed, true);
  big = false;
  assert.deepEqual(await pool.call(frame(new Uint8Array([7])), 2_000, true), new Uint8Array([7]));
  done();
});

Deno.test("pool: fire-and-forget reads no answer; closing fails waiting calls as unavailable", async () => {
  const { pool, conns, done } = setup(1, () => new Promise(() => {}));
  assert.equal(await pool.call(frame(new Uint8Array([1])), 1_000, false), null);
  const busy = pool.call(frame(new Uint8Array([2])), 5_000, true).catch((e) => e);
  const waiting = pool.call(frame(new Uint8Array([3])), 5_000, true).catch((e) => e);
  done();
  for (const err of [await busy, await waiting]) {
    assert.ok(err instanceof PluginError && err.kind === "unavailable", String(err));
  }
  assert.equal(conns.length, 1);
  const after = await pool.call(frame(new Uint8Array([4])), 1_000, true).catch((e) => e);
  assert.ok(after instanceof PluginError && after.kind === "unavailable");
});

Deno.test("pool: a connection that cannot be opened is unavailable", async () => {
  const watchdog = new Watchdog();
  const pool = new HookPool({
    plugin: "guard",
    path: "/nowhere",
    size: 2,
    watchdog,
    connect: () => Promise.reject(new Deno.errors.NotFound("no socket")),
  });
  const err = await pool.call(frame(new Uint8Array([1])), 1_000, true).catch((e) => e);
  assert.ok(err instanceof PluginError && err.kind === "unavailable", String(err));
  assert.match(err.message, /no socket/);
  pool.close();
  watchdog.close();
});
