/**
 * HTTP/2 details of the gRPC client against a scripted in-memory server: what a well-behaved
 * Go server rarely shows on demand, but the client must get right (docs/plugins.md §6 "gRPC
 * plugins").
 */
import assert from "node:assert/strict";
import hpackLib from "hpack.js";
import { createGrpcPlugin } from "../../../src/plugins/grpc/mod.ts";
import { PluginError } from "../../../src/plugins/transport.ts";
import {
  ACK,
  DATA,
  END_HEADERS,
  END_STREAM,
  fakeConnector,
  type FakeSocket,
  frame,
  GOAWAY,
  grpcMessage,
  HEADERS,
  indexedLiteral,
  literal,
  PADDED,
  PING,
  RST_STREAM,
  SETTINGS,
  STATUS_200,
  u32,
  WINDOW_UPDATE,
} from "./fake_server.ts";
import { silentLogger } from "../../support/logger.ts";

const logger = silentLogger();
const REQUEST = new TextEncoder().encode('{"event":{"username":"u"}}');
const decode = (b: Uint8Array) => new TextDecoder().decode(b);
const hpack = hpackLib as unknown as {
  decompressor: {
    create(o: { table: { maxSize: number } }): {
      write(b: Uint8Array): void;
      execute(): void;
      read(): { name: string; value: string } | null;
    };
  };
};

function setup(options: { random?: () => number } = {}) {
  const fake = fakeConnector();
  const clock = { ms: 0 };
  const plugin = createGrpcPlugin({
    name: "scripted",
    address: "127.0.0.1:1",
    timeoutMs: 1000,
    logger,
    connect: fake.connect,
    now: () => clock.ms,
    random: options.random ?? (() => 0.5),
  });
  return { plugin, fake, clock };
}

/** Answers stream `id` with headers, one message and OK trailers. */
function answerOk(s: FakeSocket, id: number, body: string): void {
  s.send(
    frame(HEADERS, END_HEADERS, id, [
      ...STATUS_200,
      ...literal("content-type", "application/grpc"),
    ]),
    frame(DATA, 0, id, grpcMessage(body)),
    frame(HEADERS, END_HEADERS | END_STREAM, id, literal("grpc-status", "0")),
  );
}

async function rejection(p: Promise<unknown>): Promise<PluginError> {
  const err = await p.then(() => null, (e: unknown) => e);
  assert.ok(err instanceof PluginError, String(err));
  return err;
}

Deno.test("grpc/scripted: settings are acknowledged, pings answered with their payload", async () => {
  const { plugin, fake } = setup();
  const call = plugin.call(REQUEST, 1000);
  const s = await fake.next();
  s.send(frame(SETTINGS, 0, 0, [0, 3, ...u32(100)]), frame(PING, 0, 0, [1, 2, 3, 4, 5, 6, 7, 8]));
  const settingsAck = await s.nextOf(SETTINGS, (f) => (f.flags & ACK) !== 0);
  assert.equal(settingsAck.payload.length, 0);
  const pong = await s.nextOf(PING);
  assert.equal(pong.flags & ACK, ACK);
  assert.deepEqual([...pong.payload], [1, 2, 3, 4, 5, 6, 7, 8]);
  answerOk(s, 1, "{}");
  assert.equal(decode(await call), "{}");
  await plugin.close();
});

Deno.test("grpc/scripted: request headers and body as the Go router sends them", async () => {
  const { plugin, fake } = setup();
  const call = plugin.call(REQUEST, 250);
  const s = await fake.next();
  const headers = await s.nextOf(HEADERS);
  assert.equal(headers.stream, 1);
  assert.equal(headers.flags & END_HEADERS, END_HEADERS);
  // Decoded with hpack.js itself, not through the client's wrapper.
  const decompressor = hpack.decompressor.create({ table: { maxSize: 4096 } });
  decompressor.write(headers.payload);
  decompressor.execute();
  const fields: string[] = [];
  for (let f = decompressor.read(); f !== null; f = decompressor.read()) {
    fields.push(`${f.name}: ${f.value}`);
  }
  for (
    const expected of [
      ":method: POST",
      ":scheme: http",
      ":path: /hyrouter.Plugin/OnConnect",
      ":authority: 127.0.0.1:1",
      "content-type: application/grpc+json",
      "te: trailers",
      "grpc-timeout: 250m",
    ]
  ) assert.ok(fields.includes(expected), `${expected} missing in ${fields.join(", ")}`);
  const body = await s.nextOf(DATA);
  assert.equal(body.flags & END_STREAM, END_STREAM);
  assert.deepEqual([...body.payload], [0, ...u32(REQUEST.length), ...REQUEST]);
  answerOk(s, 1, '{"deny":true}');
  assert.equal(decode(await call), '{"deny":true}');
  await plugin.close();
});

Deno.test("grpc/scripted: padded DATA, split message, trailers-only errors, bad grpc-message", async () => {
  const { plugin, fake } = setup();
  let call = plugin.call(REQUEST, 1000);
  const s = await fake.next();
  await s.nextOf(DATA);
  const msg = grpcMessage('{"a":1}');
  s.send(
    frame(HEADERS, END_HEADERS, 1, STATUS_200),
    frame(DATA, PADDED, 1, [3, ...msg.slice(0, 4), 0, 0, 0]),
    frame(DATA, 0, 1, msg.slice(4)),
    frame(HEADERS, END_HEADERS | END_STREAM, 1, literal("grpc-status", "0")),
  );
  assert.equal(decode(await call), '{"a":1}');

  call = plugin.call(REQUEST, 1000);
  await s.nextOf(DATA);
  s.send(frame(HEADERS, END_HEADERS | END_STREAM, 3, [
    ...STATUS_200,
    ...literal("grpc-status", "13"),
    ...literal("grpc-message", "boom%20%E2%9C%93"),
  ]));
  let err = await rejection(call);
  assert.equal(err.kind, "trap");
  assert.match(err.message, /13 INTERNAL: boom ✓/);

  call = plugin.call(REQUEST, 1000);
  await s.nextOf(DATA);
  s.send(frame(HEADERS, END_HEADERS | END_STREAM, 5, [
    ...STATUS_200,
    ...literal("grpc-status", "14"),
    ...literal("grpc-message", "bad%zzescape"),
  ]));
  err = await rejection(call);
  assert.equal(err.kind, "unavailable");
  assert.match(err.message, /bad%zzescape/);

  call = plugin.call(REQUEST, 1000);
  await s.nextOf(DATA);
  s.send(
    frame(HEADERS, END_HEADERS, 7, STATUS_200),
    frame(DATA, 0, 7, [1, ...u32(2), 0x1f, 0x8b]), // compressed flag set: not what we accepted
    frame(HEADERS, END_HEADERS | END_STREAM, 7, literal("grpc-status", "0")),
  );
  err = await rejection(call);
  assert.equal(err.kind, "bad_response");

  call = plugin.call(REQUEST, 1000);
  await s.nextOf(DATA);
  s.send(frame(HEADERS, END_HEADERS | END_STREAM, 9, [0x8d])); // :status 404, no grpc-status
  err = await rejection(call);
  assert.equal(err.kind, "trap");
  assert.match(err.message, /12 UNIMPLEMENTED/);
  await plugin.close();
});

Deno.test("grpc/scripted: a cancelled stream's header block is still decoded and its DATA credited", async () => {
  const { plugin, fake } = setup();
  const late = plugin.call(REQUEST, 30);
  const s = await fake.next();
  await s.nextOf(DATA);
  assert.equal((await rejection(late)).kind, "timeout");
  const rst = await s.nextOf(RST_STREAM);
  assert.equal(rst.stream, 1);
  assert.deepEqual([...rst.payload], u32(8)); // CANCEL

  // The late answer adds a dynamic-table entry the next answer refers to (index 62).
  s.send(frame(HEADERS, END_HEADERS, 1, [...STATUS_200, ...indexedLiteral("x-trace", "abc")]));
  const chunk = new Uint8Array(16_384);
  for (let i = 0; i < 130; i++) s.send(frame(DATA, 0, 1, chunk)); // 2.03 MiB on a dead stream
  const credit = await s.nextOf(WINDOW_UPDATE, (f) => f.stream === 0);
  const increment = ((credit.payload[0]! & 127) << 24) | (credit.payload[1]! << 16) |
    (credit.payload[2]! << 8) | credit.payload[3]!;
  assert.ok(increment >= 2 * 1024 * 1024, `credited ${increment}`);

  const next = plugin.call(REQUEST, 1000);
  const headers = await s.nextOf(HEADERS);
  assert.equal(headers.stream, 3);
  s.send(
    frame(HEADERS, END_HEADERS, 3, [...STATUS_200, 0xbe]), // 0xbe = indexed field 62: x-trace
    frame(DATA, 0, 3, grpcMessage("{}")),
    frame(HEADERS, END_HEADERS | END_STREAM, 3, literal("grpc-status", "0")),
  );
  assert.equal(decode(await next), "{}");
  await plugin.close();
});

Deno.test("grpc/scripted: refused streams are retried; GOAWAY moves calls to a new connection", async () => {
  const { plugin, fake } = setup();
  const call = plugin.call(REQUEST, 1000);
  const s1 = await fake.next();
  await s1.nextOf(DATA);
  s1.send(frame(RST_STREAM, 0, 1, u32(7))); // REFUSED_STREAM: never processed
  const retry = await s1.nextOf(HEADERS);
  assert.equal(retry.stream, 3);
  await s1.nextOf(DATA);
  s1.send(frame(GOAWAY, 0, 0, [...u32(1), ...u32(0)])); // last processed: 1, so 3 was not
  const s2 = await fake.next();
  const moved = await s2.nextOf(HEADERS);
  assert.equal(moved.stream, 1);
  answerOk(s2, 1, '{"ok":true}');
  assert.equal(decode(await call), '{"ok":true}');
  assert.equal(fake.sockets.length, 2);
  assert.equal(s1.closed, true, "the drained connection is closed");
  await plugin.close();
});

Deno.test("grpc/scripted: MAX_CONCURRENT_STREAMS queues calls; a window change mid-stream resumes the body", async () => {
  const { plugin, fake } = setup();
  const first = plugin.call(REQUEST, 1000);
  const s = await fake.next();
  await s.nextOf(DATA);
  // One stream at a time, and stream windows of 10 octets from now on.
  s.send(frame(SETTINGS, 0, 0, [0, 3, ...u32(1), 0, 4, ...u32(10)]));
  await s.nextOf(SETTINGS, (f) => (f.flags & ACK) !== 0);
  const second = plugin.call(REQUEST, 1000);
  const third = plugin.call(REQUEST, 1000);
  answerOk(s, 1, '"one"');
  assert.equal(decode(await first), '"one"');

  // Stream 3 may send only 10 octets of its 31-octet body …
  assert.equal((await s.nextOf(HEADERS)).stream, 3);
  const part = await s.nextOf(DATA);
  assert.equal(part.payload.length, 10);
  assert.equal(part.flags & END_STREAM, 0);
  // … until the initial window grows mid-stream (RFC 9113 §6.9.2).
  s.send(frame(SETTINGS, 0, 0, [0, 4, ...u32(1000)]));
  const rest = await s.nextOf(DATA);
  assert.equal(rest.payload.length, 5 + REQUEST.length - 10);
  assert.equal(rest.flags & END_STREAM, END_STREAM);
  answerOk(s, 3, '"two"');
  assert.equal(decode(await second), '"two"');
  assert.equal((await s.nextOf(HEADERS)).stream, 5, "the queued call starts when a slot frees");
  answerOk(s, 5, '"three"');
  assert.equal(decode(await third), '"three"');
  await plugin.close();
});

Deno.test("grpc/scripted: a dying connection fails every call in flight as unavailable", async () => {
  const { plugin, fake } = setup();
  const calls = Array.from({ length: 8 }, () => plugin.call(REQUEST, 1000));
  const s = await fake.next();
  await s.nextOf(DATA, (f) => f.stream === 15);
  s.end();
  const results = await Promise.allSettled(calls);
  for (const r of results) {
    assert.equal(r.status, "rejected");
    assert.equal((r.reason as PluginError).kind, "unavailable");
  }
  await plugin.close();
});

Deno.test("grpc/scripted: reconnect backoff is exponential, jittered and read off the clock", async () => {
  let dials = 0;
  const clock = { ms: 0 };
  const plugin = createGrpcPlugin({
    name: "down",
    address: "127.0.0.1:1",
    timeoutMs: 1000,
    logger,
    connect: () => {
      dials += 1;
      return Promise.reject(new Error("connection refused"));
    },
    now: () => clock.ms,
    random: () => 0, // the shortest jittered wait: base × 0.8
  });
  const expectDown = async (expectedDials: number) => {
    const err = await rejection(plugin.call(REQUEST, 1000));
    assert.equal(err.kind, "unavailable");
    assert.equal(dials, expectedDials);
  };
  await expectDown(1); // waits 100 × 0.8 = 80 ms
  clock.ms = 79;
  await expectDown(1);
  clock.ms = 80;
  await expectDown(2); // waits 160 × 0.8 = 128 ms
  clock.ms = 80 + 127;
  await expectDown(2);
  clock.ms = 80 + 128;
  await expectDown(3);
  clock.ms = 1e9; // far later: capped at 5 s, still one dial per call past the wait
  await expectDown(4);
  await plugin.close();
});

Deno.test("grpc/scripted: a malformed address is a load error naming the plugin", () => {
  for (const address of ["localhost", "host:0", "host:99999", ":80", "a b:1"]) {
    assert.throws(
      () => createGrpcPlugin({ name: "bad", address, timeoutMs: 100, logger }),
      (e: unknown) => e instanceof PluginError && e.kind === "load" && e.plugin === "bad",
      address,
    );
  }
});

Deno.test("grpc/scripted: after a timeout a PING probes the peer; no answer → a fresh connection", async () => {
  const { plugin, fake, clock } = setup();
  const first = plugin.call(REQUEST, 20);
  const s1 = await fake.next();
  await s1.nextOf(DATA);
  assert.equal((await rejection(first)).kind, "timeout");
  const probe = await s1.nextOf(PING);
  assert.equal(probe.flags & ACK, 0);

  // Answered: the connection stays.
  s1.send(frame(PING, ACK, 0, probe.payload));
  const second = plugin.call(REQUEST, 20);
  await s1.nextOf(DATA);
  assert.equal((await rejection(second)).kind, "timeout");
  assert.equal(fake.sockets.length, 1);

  // A minute later another timeout probes again; this time nothing answers.
  clock.ms += 60_000;
  const third = plugin.call(REQUEST, 20);
  await s1.nextOf(DATA);
  assert.equal((await rejection(third)).kind, "timeout");
  await s1.nextOf(PING);
  clock.ms += 999;
  const fourth = plugin.call(REQUEST, 1000);
  await s1.nextOf(DATA);
  answerOk(s1, 7, '"still here"');
  assert.equal(decode(await fourth), '"still here"');
  clock.ms += 2; // past the 1000 ms probe timeout (the plugin's connect timeout)
  const fifth = plugin.call(REQUEST, 1000);
  const s2 = await fake.next();
  assert.equal(s1.closed, true);
  await s2.nextOf(DATA);
  answerOk(s2, 1, '"fresh"');
  assert.equal(decode(await fifth), '"fresh"');
  await plugin.close();
});

Deno.test("grpc/scripted: trailers split over HEADERS + CONTINUATION; interleaving is fatal", async () => {
  const { plugin, fake } = setup();
  let call = plugin.call(REQUEST, 1000);
  const s = await fake.next();
  await s.nextOf(DATA);
  const trailers = [...literal("grpc-status", "0"), ...literal("x-note", "split")];
  s.send(
    frame(HEADERS, END_HEADERS, 1, STATUS_200),
    frame(DATA, 0, 1, grpcMessage("[]")),
    frame(HEADERS, END_STREAM, 1, trailers.slice(0, 5)),
    frame(9, /* CONTINUATION */ END_HEADERS, 1, trailers.slice(5)),
  );
  assert.equal(decode(await call), "[]");

  call = plugin.call(REQUEST, 1000);
  await s.nextOf(DATA);
  s.send(
    frame(HEADERS, 0, 3, STATUS_200),
    frame(PING, 0, 0, [0, 0, 0, 0, 0, 0, 0, 0]), // not allowed inside a header block
  );
  const err = await rejection(call);
  assert.equal(err.kind, "unavailable");
  assert.match(err.message, /protocol error/);
  const goaway = await s.nextOf(GOAWAY);
  assert.deepEqual([...goaway.payload.subarray(4, 8)], u32(1)); // PROTOCOL_ERROR
  await plugin.close();
});

Deno.test("grpc/scripted: a repeated indexed block follows the server's table as it changes", async () => {
  const { plugin, fake } = setup();
  const answer = async (s: FakeSocket, id: number, trailers: number[]) => {
    await s.nextOf(DATA, (f) => f.stream === id);
    s.send(
      frame(HEADERS, END_HEADERS, id, STATUS_200),
      frame(DATA, 0, id, grpcMessage("{}")),
      frame(HEADERS, END_HEADERS | END_STREAM, id, trailers),
    );
  };
  let call = plugin.call(REQUEST, 1000);
  const s = await fake.next();
  await answer(s, 1, indexedLiteral("grpc-status", "0")); // table: 62 = grpc-status: 0
  assert.equal(decode(await call), "{}");
  for (const id of [3, 5]) { // the same one-octet block twice: index 62
    call = plugin.call(REQUEST, 1000);
    await answer(s, id, [0xbe]);
    assert.equal(decode(await call), "{}");
  }
  // A new entry takes index 62; the unchanged block 0xbe now means grpc-status: 13.
  call = plugin.call(REQUEST, 1000);
  await s.nextOf(DATA, (f) => f.stream === 7);
  s.send(frame(HEADERS, END_HEADERS, 7, [...STATUS_200, ...indexedLiteral("grpc-status", "13")]));
  s.send(frame(DATA, 0, 7, grpcMessage("{}")), frame(HEADERS, END_HEADERS | END_STREAM, 7, [0xbe]));
  const err = await rejection(call);
  assert.equal(err.kind, "trap");
  assert.match(err.message, /13 INTERNAL/);
  await plugin.close();
});

Deno.test("grpc/scripted: a smaller SETTINGS_HEADER_TABLE_SIZE is signalled once, lowest first", async () => {
  const { plugin, fake } = setup();
  let call = plugin.call(REQUEST, 1000);
  const s = await fake.next();
  const first = await s.nextOf(HEADERS);
  assert.ok((first.payload[0]! & 0xe0) !== 0x20, "no size update before any change");
  answerOk(s, 1, "{}");
  await call;
  // Two changes before the next request: 100 then 300 → one update to 100 (RFC 7541 §4.2).
  s.send(frame(SETTINGS, 0, 0, [0, 1, ...u32(100), 0, 1, ...u32(300)]));
  await s.nextOf(SETTINGS, (f) => (f.flags & ACK) !== 0);
  call = plugin.call(REQUEST, 1000);
  const second = await s.nextOf(HEADERS);
  assert.deepEqual([...second.payload.subarray(0, 3)], [0x3f, 0x45, 0x83]); // update: 31 + 69 = 100; then :method POST
  answerOk(s, 3, "{}");
  await call;
  call = plugin.call(REQUEST, 1000);
  const third = await s.nextOf(HEADERS);
  assert.ok((third.payload[0]! & 0xe0) !== 0x20, "signalled only once");
  answerOk(s, 5, "{}");
  await call;
  await plugin.close();
});
