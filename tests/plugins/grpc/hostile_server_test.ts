/**
 * The gRPC client against a hostile plugin server (issue 12: a plugin server, or anything at its
 * address, is untrusted). A raw TCP server attacks the first connection — endless header blocks,
 * oversized frames, DATA past the windows, PING/SETTINGS floods, oversized messages — and is
 * well-behaved on later ones. Each attack must end as a plugin error within the call's timeout,
 * with the fitting HTTP/2 error sent back, the router's memory bounded while the attacker tries
 * to send hundreds of MiB, the next call answered, and another plugin's calls answered
 * throughout.
 */
import assert from "node:assert/strict";
import { createGrpcPlugin } from "../../../src/plugins/grpc/mod.ts";
import {
  CONN_RECV_WINDOW,
  MAX_HEADER_BLOCK_FRAMES,
  MAX_HEADER_BLOCK_SIZE,
  MAX_PENDING_REPLIES,
  WRITE_GRACE_MS,
} from "../../../src/plugins/grpc/connection.ts";
import {
  DEFAULT_MAX_FRAME_SIZE,
  ErrorCode,
  FRAME_HEADER_SIZE,
  FrameError,
  FrameReader,
} from "../../../src/plugins/grpc/frames.ts";
import { MAX_MESSAGE_BYTES } from "../../../src/plugins/grpc/stream.ts";
import { PluginError, type PluginTransport } from "../../../src/plugins/transport.ts";
import {
  ACK,
  DATA,
  END_HEADERS,
  END_STREAM,
  FakeSocket,
  frame,
  GOAWAY,
  HEADERS,
  literal,
  PADDED,
  PING,
  RST_STREAM,
  SETTINGS,
  STATUS_200,
  u32,
} from "./fake_server.ts";
import { type Behaviour, frameHeader, goawayCode, H2Peer, RawH2Server } from "./raw_h2_server.ts";
import { silentLogger } from "../../support/logger.ts";

const CONTINUATION = 9;
const MiB = 1024 * 1024;
const TIMEOUT_MS = 3_000;
/** What an attacker tries to send; the client must cut it off long before. */
const BUDGET = 512 * MiB;
/** Allowed growth of the process's resident memory during one attack. */
const RSS_LIMIT = 64 * MiB;
const REQUEST = new TextEncoder().encode('{"event":{"username":"u"}}');
const decode = (b: Uint8Array) => new TextDecoder().decode(b);

function plugin(name: string, address: string): PluginTransport {
  return createGrpcPlugin({ name, address, timeoutMs: TIMEOUT_MS, logger: silentLogger() });
}

/** Peak growth of the resident set since construction, sampled by whoever is busy. */
class RssWatch {
  readonly #base = Deno.memoryUsage().rss;
  #peak = this.#base;
  sample(): void {
    this.#peak = Math.max(this.#peak, Deno.memoryUsage().rss);
  }
  get growth(): number {
    this.sample();
    return this.#peak - this.#base;
  }
}

/** Another plugin, on a well-behaved server, called back to back while the attack runs. */
class Bystander {
  answered = 0;
  readonly failures: string[] = [];
  readonly #server = new RawH2Server(serveRequests);
  readonly #plugin = plugin("bystander", this.#server.address);
  readonly #watch: RssWatch;
  #running = true;
  #waiters: Array<{ at: number; resolve: () => void }> = [];
  readonly #loop: Promise<void>;

  constructor(watch: RssWatch) {
    this.#watch = watch;
    this.#loop = this.#run();
  }

  /** Resolves once `n` more of its calls have been answered. */
  answers(n: number): Promise<void> {
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#waiters.push({ at: this.answered + n, resolve });
    return promise;
  }

  /** Stops calling; asserts that every call was answered. */
  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
    await this.#plugin.close();
    await this.#server.close();
    assert.deepEqual(this.failures, [], "the other plugin's calls failed during the attack");
    assert.ok(this.answered > 0);
  }

  async #run(): Promise<void> {
    while (this.#running) {
      try {
        assert.equal(decode(await this.#plugin.call(REQUEST, TIMEOUT_MS)), "{}");
        this.answered += 1;
      } catch (err) {
        this.failures.push(String(err));
      }
      this.#watch.sample();
      this.#waiters = this.#waiters.filter((w) => w.at > this.answered || (w.resolve(), false));
    }
  }
}

/** Handshake, then `{}` for every request: the server turned good. */
async function serveRequests(peer: H2Peer): Promise<void> {
  await peer.handshake();
  await answerAll(peer);
}

async function answerAll(peer: H2Peer): Promise<void> {
  for (;;) {
    let id: number;
    try {
      id = await peer.request();
    } catch {
      return; // the client closed
    }
    if (!(await peer.answerOk(id, "{}"))) return;
  }
}

/** What an attack saw: octets it got out, and the GOAWAY code the client sent (if any). */
interface AttackReport {
  readonly sent: number;
  readonly goaway: number | null;
}

/** Blasts `chunk` after `opening`, then reads the client's GOAWAY. */
async function blastUntilCut(
  peer: H2Peer,
  watch: RssWatch,
  opening: Uint8Array[],
  chunk: Uint8Array,
): Promise<AttackReport> {
  await peer.send(...opening);
  const sent = await peer.blast(chunk, BUDGET, () => watch.sample());
  const goaway = await peer.next((f) => f.type === GOAWAY).then(goawayCode, () => null);
  return { sent, goaway };
}

/** `count` copies of `f` back to back (one write carries many small frames). */
function repeat(f: Uint8Array, count: number): Uint8Array {
  const out = new Uint8Array(f.length * count);
  for (let i = 0; i < count; i++) out.set(f, i * f.length);
  return out;
}

/** A DATA frame of one full frame's length whose payload starts with `prefix`. */
function dataFrame(stream: number, prefix: number[] = []): Uint8Array {
  const payload = new Uint8Array(DEFAULT_MAX_FRAME_SIZE);
  payload.set(prefix);
  return frame(DATA, 0, stream, payload);
}

async function rejection(call: Promise<unknown>, kind: string): Promise<PluginError> {
  const started = performance.now();
  const err = await call.then(() => null, (e: unknown) => e);
  const elapsed = performance.now() - started;
  assert.ok(err instanceof PluginError, `expected a PluginError, got ${String(err)}`);
  assert.equal(err.kind, kind, err.message);
  assert.ok(elapsed < TIMEOUT_MS, `failed after ${elapsed} ms, not within the timeout`);
  return err;
}

/**
 * Runs one attack on the first connection of a raw server (later connections are good): the
 * attacked calls must fail with `kind`, the attacker must be cut off with GOAWAY(`goaway`),
 * memory must stay bounded, the next call must be answered (on a new connection), and a
 * bystander plugin must keep being answered. Returns the first call's error.
 */
async function underAttack(
  attack: (peer: H2Peer, watch: RssWatch, bystander: Bystander) => Promise<AttackReport>,
  expected: { kind: string; goaway: number; calls?: number },
): Promise<PluginError> {
  const watch = new RssWatch();
  const bystander = new Bystander(watch);
  const attacked: Behaviour = (peer) => attack(peer, watch, bystander);
  const server = new RawH2Server([attacked, serveRequests]);
  const victim = plugin("victim", server.address);
  try {
    const calls = Array.from(
      { length: expected.calls ?? 1 },
      () => victim.call(REQUEST, TIMEOUT_MS),
    );
    const errors = await Promise.all(calls.map((c) => rejection(c, expected.kind)));
    const report = await server.result(0) as AttackReport;
    assert.equal(report.goaway, expected.goaway, "GOAWAY error code");
    assert.ok(report.sent < BUDGET / 4, `the attacker got ${report.sent} octets out`);
    assert.ok(watch.growth < RSS_LIMIT, `RSS grew by ${watch.growth} octets`);
    assert.equal(decode(await victim.call(REQUEST, TIMEOUT_MS)), "{}", "the next call");
    assert.equal(server.connections, 2, "the next call reconnected");
    return errors[0]!;
  } finally {
    await victim.close();
    await server.close();
    await bystander.stop();
  }
}

/** Handshake, wait for the request, let the bystander get an answer meanwhile. */
async function openAttack(peer: H2Peer, bystander: Bystander): Promise<number> {
  await peer.handshake();
  const id = await peer.request();
  await bystander.answers(1);
  return id;
}

Deno.test("grpc/hostile: the frame reader holds one frame at most; a longer one is FRAME_SIZE_ERROR", () => {
  const reader = new FrameReader(DEFAULT_MAX_FRAME_SIZE);
  assert.equal(reader.capacity, FRAME_HEADER_SIZE + DEFAULT_MAX_FRAME_SIZE);
  // Largest frames, fed in odd-sized reads: each comes out whole, the buffer never grows.
  const big = dataFrame(1, [7]);
  const stream = repeat(big, 5);
  let at = 0;
  let frames = 0;
  while (at < stream.length) {
    const space = reader.space();
    assert.ok(space.length > 0 && space.length <= reader.capacity);
    const n = Math.min(space.length, 5_000, stream.length - at);
    space.set(stream.subarray(at, at + n));
    reader.commit(n);
    at += n;
    for (let f = reader.next(); f !== null; f = reader.next()) {
      assert.equal(f.payload.length, DEFAULT_MAX_FRAME_SIZE);
      assert.equal(f.payload[0], 7);
      frames += 1;
    }
  }
  assert.equal(frames, 5);
  // One octet over the maximum fails on the header alone.
  reader.space().set(frameHeader(DEFAULT_MAX_FRAME_SIZE + 1, DATA, 0, 1));
  reader.commit(FRAME_HEADER_SIZE);
  assert.throws(
    () => reader.next(),
    (e: unknown) => e instanceof FrameError && e.code === ErrorCode.FRAME_SIZE_ERROR,
  );
});

Deno.test("grpc/hostile: a header block that never ends is cut at 64 KiB (PROTOCOL_ERROR)", async () => {
  const err = await underAttack(async (peer, watch, bystander) => {
    const id = await openAttack(peer, bystander);
    const opening = frame(HEADERS, 0, id, STATUS_200); // no END_HEADERS: CONTINUATION must follow
    const more = frame(CONTINUATION, 0, id, new Uint8Array(DEFAULT_MAX_FRAME_SIZE));
    return await blastUntilCut(peer, watch, [opening], more);
  }, { kind: "unavailable", goaway: ErrorCode.PROTOCOL_ERROR });
  assert.match(err.message, new RegExp(`header block larger than ${MAX_HEADER_BLOCK_SIZE}`));
});

Deno.test("grpc/hostile: empty CONTINUATION frames without end are a flood (ENHANCE_YOUR_CALM)", async () => {
  const err = await underAttack(async (peer, watch, bystander) => {
    const id = await openAttack(peer, bystander);
    const opening = frame(HEADERS, 0, id, STATUS_200);
    const empty = repeat(frame(CONTINUATION, 0, id, []), 1000);
    return await blastUntilCut(peer, watch, [opening], empty);
  }, { kind: "unavailable", goaway: ErrorCode.ENHANCE_YOUR_CALM });
  assert.match(err.message, new RegExp(`more than ${MAX_HEADER_BLOCK_FRAMES} frames`));
});

Deno.test("grpc/hostile: a frame longer than the advertised maximum is FRAME_SIZE_ERROR", async () => {
  const err = await underAttack(async (peer, watch, bystander) => {
    const id = await openAttack(peer, bystander);
    // Announces 16 MiB of DATA and starts sending it.
    const opening = [
      frame(HEADERS, END_HEADERS, id, STATUS_200),
      frameHeader(0xff_ffff, DATA, 0, id),
    ];
    return await blastUntilCut(peer, watch, opening, new Uint8Array(64 * 1024));
  }, { kind: "unavailable", goaway: ErrorCode.FRAME_SIZE_ERROR });
  assert.match(err.message, /frame of 16777215 octets too large/);
});

Deno.test("grpc/hostile: DATA past the stream's window is FLOW_CONTROL_ERROR", async () => {
  const err = await underAttack(async (peer, watch, bystander) => {
    const id = await openAttack(peer, bystander);
    // A 2 MiB message is fine, but the window never grants more than the message needs.
    const opening = [
      frame(HEADERS, END_HEADERS, id, STATUS_200),
      dataFrame(id, [0, ...u32(2 * MiB)]),
    ];
    return await blastUntilCut(peer, watch, opening, dataFrame(id));
  }, { kind: "unavailable", goaway: ErrorCode.FLOW_CONTROL_ERROR });
  assert.match(err.message, /exceeds stream 1's window/);
});

Deno.test("grpc/hostile: DATA past the connection's window is FLOW_CONTROL_ERROR", async () => {
  const streams = 5; // 5 × 4 MiB declared: more than the connection's window
  assert.ok(streams * MAX_MESSAGE_BYTES > CONN_RECV_WINDOW);
  const err = await underAttack(async (peer, watch, bystander) => {
    await peer.handshake();
    const ids: number[] = [];
    while (ids.length < streams) ids.push(await peer.request());
    await bystander.answers(1);
    const opening = ids.flatMap((id) => [
      frame(HEADERS, END_HEADERS, id, STATUS_200),
      dataFrame(id, [0, ...u32(MAX_MESSAGE_BYTES)]),
    ]);
    const roundRobin = new Uint8Array(ids.flatMap((id) => [...dataFrame(id)]));
    return await blastUntilCut(peer, watch, opening, roundRobin);
  }, { kind: "unavailable", goaway: ErrorCode.FLOW_CONTROL_ERROR, calls: streams });
  assert.match(err.message, /exceeds the connection's window/);
});

for (
  const [name, type, payload] of [["PING", PING, [1, 2, 3, 4, 5, 6, 7, 8]], [
    "SETTINGS",
    SETTINGS,
    [],
  ]] as const
) {
  Deno.test(`grpc/hostile: a ${name} flood is ENHANCE_YOUR_CALM past ${MAX_PENDING_REPLIES} unwritten replies`, async () => {
    const err = await underAttack(async (peer, watch, bystander) => {
      await openAttack(peer, bystander);
      return await blastUntilCut(peer, watch, [], repeat(frame(type, 0, 0, [...payload]), 1000));
    }, { kind: "unavailable", goaway: ErrorCode.ENHANCE_YOUR_CALM });
    assert.match(err.message, new RegExp(`${name} flood`));
  });
}

Deno.test("grpc/hostile: PINGs answered in between are no flood", async () => {
  const server = new RawH2Server(async (peer) => {
    await peer.handshake();
    const id = await peer.request();
    for (let round = 0; round < 5; round++) {
      const batch = MAX_PENDING_REPLIES - 10;
      await peer.send(repeat(frame(PING, 0, 0, [round, 0, 0, 0, 0, 0, 0, 0]), batch));
      for (let i = 0; i < batch; i++) {
        await peer.next((f) => f.type === PING && (f.flags & ACK) !== 0);
      }
    }
    await peer.answerOk(id, '"calm"');
    await answerAll(peer);
  });
  const victim = plugin("pinged", server.address);
  try {
    assert.equal(decode(await victim.call(REQUEST, TIMEOUT_MS)), '"calm"');
  } finally {
    await victim.close();
    await server.close();
  }
});

Deno.test("grpc/hostile: a message over 4 MiB is bad_response at its prefix; nothing is buffered", async () => {
  const watch = new RssWatch();
  const bystander = new Bystander(watch);
  let answeredDuringBlast = 0;
  const blasted = Promise.withResolvers<void>();
  const server = new RawH2Server(async (peer) => {
    const id = await openAttack(peer, bystander);
    // Declares 1 GiB, then sends 256 MiB regardless of the RST_STREAM and of every window.
    await peer.send(
      frame(HEADERS, END_HEADERS, id, STATUS_200),
      dataFrame(id, [0, ...u32(1 << 30)]),
    );
    const before = bystander.answered;
    const sent = await peer.blast(dataFrame(id), 256 * MiB, () => watch.sample());
    answeredDuringBlast = bystander.answered - before;
    blasted.resolve();
    const rst = await peer.next((f) => f.type === RST_STREAM && f.stream === id);
    // Then a body that runs past its declared 100 octets.
    const next = await peer.request();
    await peer.send(
      frame(HEADERS, END_HEADERS, next, STATUS_200),
      dataFrame(next, [0, ...u32(100)]),
    );
    await answerAll(peer);
    return { sent, rst: rst.payload };
  });
  const victim = plugin("victim", server.address);
  try {
    const err = await rejection(victim.call(REQUEST, TIMEOUT_MS), "bad_response");
    assert.match(err.message, new RegExp(`exceeds the ${MAX_MESSAGE_BYTES}-byte limit`));
    await blasted.promise;
    const trailing = await rejection(victim.call(REQUEST, TIMEOUT_MS), "bad_response");
    assert.match(trailing.message, /data after its message/);
    assert.equal(decode(await victim.call(REQUEST, TIMEOUT_MS)), "{}");
    assert.equal(server.connections, 1, "a stream error: the connection stays");
    const report = await server.result(0) as { sent: number; rst: Uint8Array };
    assert.deepEqual([...report.rst], u32(ErrorCode.CANCEL));
    assert.ok(report.sent >= 256 * MiB, "the whole blast was read and dropped");
    assert.ok(watch.growth < RSS_LIMIT, `RSS grew by ${watch.growth} octets`);
    assert.ok(answeredDuringBlast > 0, "the other plugin was answered during the blast");
  } finally {
    await victim.close();
    await server.close();
    await bystander.stop();
  }
});

Deno.test("grpc/hostile: a response header list over 64 KiB is bad_response", async () => {
  const server = new RawH2Server(async (peer) => {
    await peer.handshake();
    const id = await peer.request();
    // A 64,001-octet block (within the 64 KiB bound) whose list is 78,500 octets as §6.5.2
    // counts it: 500 fields of 128 encoded octets, each 5 + 120 + 32 in the list.
    const fields = Array.from({ length: 500 }, () => literal("x-big", "v".repeat(120))).flat();
    const block = [...STATUS_200, ...fields];
    const parts = [];
    for (let at = 0; at < block.length; at += 16_000) parts.push(block.slice(at, at + 16_000));
    await peer.send(
      ...parts.map((part, i) => {
        const last = i === parts.length - 1;
        if (i === 0) return frame(HEADERS, END_STREAM, id, part);
        return frame(CONTINUATION, last ? END_HEADERS : 0, id, part);
      }),
    );
    await answerAll(peer);
  });
  const victim = plugin("victim", server.address);
  try {
    const err = await rejection(victim.call(REQUEST, TIMEOUT_MS), "bad_response");
    assert.match(err.message, /header list of \d+ octets exceeds 65536/);
    assert.equal(decode(await victim.call(REQUEST, TIMEOUT_MS)), "{}");
  } finally {
    await victim.close();
    await server.close();
  }
});

/** An in-memory socket whose writes never complete once `stalled`: a peer that stopped reading. */
class StalledSocket extends FakeSocket {
  stalled = false;
  override write(p: Uint8Array): Promise<number> {
    return this.stalled ? new Promise(() => {}) : super.write(p);
  }
}

/** Frames that each call for a reply, one read apiece: PINGs, or 1-octet padded DATA frames. */
function replyBait(kind: "PING" | "DATA"): Uint8Array[] {
  const count = MAX_PENDING_REPLIES + 50;
  if (kind === "PING") {
    return Array.from({ length: count }, (_, i) => frame(PING, 0, 0, [...u32(i), 0, 0, 0, 0]));
  }
  // A message larger than the initial window with 10 octets still to come: its window has been
  // topped up to exactly what is wanted, so every padded frame (padding only, 1 octet) calls
  // for a 1-octet WINDOW_UPDATE.
  const declared = 3 * MiB;
  const body = new Uint8Array(5 + declared - 10);
  body.set([0, ...u32(declared)]);
  const frames = [frame(HEADERS, END_HEADERS, 1, STATUS_200)];
  for (let at = 0; at < body.length; at += DEFAULT_MAX_FRAME_SIZE) {
    frames.push(frame(DATA, 0, 1, body.subarray(at, at + DEFAULT_MAX_FRAME_SIZE)));
  }
  for (let i = 0; i < count; i++) frames.push(frame(DATA, PADDED, 1, [0]));
  return frames;
}

for (const kind of ["PING", "DATA"] as const) {
  Deno.test(`grpc/hostile: a peer that reads nothing cannot queue replies (${kind}) → ENHANCE_YOUR_CALM`, async () => {
    const socket = new StalledSocket();
    const victim = createGrpcPlugin({
      name: "stalled",
      address: "127.0.0.1:1",
      timeoutMs: TIMEOUT_MS,
      logger: silentLogger(),
      connect: () => Promise.resolve(socket),
    });
    const call = victim.call(REQUEST, TIMEOUT_MS);
    await socket.nextOf(DATA); // the request is out; from now on nothing is read
    socket.stalled = true;
    socket.send(frame(SETTINGS, 0, 0, []), ...replyBait(kind)); // each chunk is one read
    const err = await rejection(call, "unavailable");
    assert.match(err.message, new RegExp(`${kind} flood: over ${MAX_PENDING_REPLIES} replies`));
    // The GOAWAY cannot leave; the socket closes after the grace all the same.
    const closing = performance.now();
    await victim.close();
    assert.ok(socket.closed);
    assert.ok(performance.now() - closing <= WRITE_GRACE_MS + 500);
  });
}
