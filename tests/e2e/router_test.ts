import { createHmac } from "node:crypto";
import { assert, assertEquals } from "../support/assert.ts";
import {
  buildConnectV1,
  buildConnectV2,
  frame,
  hex,
  parseClientReferral,
  parseDisconnect,
  parseEnvelope,
  splitFrames,
  toHex,
} from "../support/hytale_client_codec.ts";
import { converse, type RouterUnderTest, startRouter } from "../support/router_harness.ts";

const SECRET = "e2e-secret";
const CONFIG = `
listen: "127.0.0.1:0"
referral:
  key_id: 7
  hmac_secret: "${SECRET}"
limits:
  connect_timeout: 300ms
routing:
  default:
    strategy: round_robin
    backends:
      - { host: default.internal, port: 5520 }
  routes:
    - match: { hostname: "play.example.com" }
      pool:
        strategy: round_robin
        backends:
          - { host: play-a.internal, port: 5521 }
          - { host: play-b.internal, port: 5522 }
    - match: { hostnames: ["*.lobby.example.com", "LOBBY.example.net."] }
      pool:
        strategy: random
        backends:
          - { host: lobby.internal, port: 6000 }
    - match: { hostname: "empty.example.com" }
      pool:
        strategy: round_robin
        filters:
          - { type: compare, left: "players", op: lt, right: "max" }
        backends:
          - { host: full.internal, port: 5520, meta: { players: "10", max: "10" } }
messages:
  disconnect:
    no_route: "No server for \${sni}."
`;
const NO_DEFAULT = CONFIG.replace(/ {2}default:\n(?: {4}.*\n)+/, "");

const UUID = "d3e6ef90-e113-49a7-a845-1c11f24fe166";
const v2 = (over: Partial<Parameters<typeof buildConnectV2>[0]> = {}) =>
  buildConnectV2({ uuid: UUID, username: "Krymo", language: "de-DE", ...over });

/** The exact bytes of a signed ClientReferral, built here from the spec and node:crypto. */
function expectedReferral(host: string, port: number, keyId = 7): string {
  const hostBytes = new TextEncoder().encode(host);
  const header = [0x48, 0x59, 0x52, 0x50, 1, 1, keyId, 0, 0]; // "HYRP" v1 signed, empty content
  const mac = createHmac("sha256", SECRET).update(new Uint8Array(header)).digest();
  const envelope = [...header, ...mac];
  const hostAddr = [port & 0xff, port >> 8, hostBytes.length, ...hostBytes];
  const dataOffset = hostAddr.length;
  const payload = [
    0x03,
    0,
    0,
    0,
    0,
    dataOffset,
    0,
    0,
    0,
    ...hostAddr,
    envelope.length,
    ...envelope,
  ];
  return toHex(frame(18, new Uint8Array(payload)));
}

async function withRouter(yaml: string, fn: (r: RouterUnderTest) => Promise<void>) {
  const router = await startRouter(yaml);
  try {
    await fn(router);
  } finally {
    await router.close();
  }
}

Deno.test("a v2 Connect gets the exact ClientReferral bytes with a valid HMAC", async () => {
  await withRouter(CONFIG, async ({ port }) => {
    const seen = await converse(port, { sni: "play.example.com", writes: [frame(0, v2())] });
    assert(seen.finished, "router closes its side of the stream");
    assertEquals(toHex(seen.received), expectedReferral("play-a.internal", 5521));
    assertEquals(seen.alpn, "hytale/2");
  });
});

Deno.test("round_robin alternates across connections of one route", async () => {
  await withRouter(CONFIG, async ({ port }) => {
    const hosts: string[] = [];
    for (let i = 0; i < 4; i++) {
      const seen = await converse(port, { sni: "play.example.com", writes: [frame(0, v2())] });
      hosts.push(parseClientReferral(splitFrames(seen.received).frames[0]!.payload).host);
    }
    assertEquals(hosts, [
      "play-a.internal",
      "play-b.internal",
      "play-a.internal",
      "play-b.internal",
    ]);
  });
});

Deno.test("a v1 Connect is routed the same way", async () => {
  await withRouter(CONFIG, async ({ port }) => {
    const payload = buildConnectV1({
      protocolHash: "ab".repeat(32),
      uuid: UUID,
      username: "OldClient",
      language: "en",
    });
    const seen = await converse(port, { sni: "x.lobby.example.com", writes: [frame(0, payload)] });
    assertEquals(toHex(seen.received), expectedReferral("lobby.internal", 6000));
  });
});

Deno.test("hostname patterns are case-insensitive and ignore a trailing dot", async () => {
  await withRouter(CONFIG, async ({ port }) => {
    const seen = await converse(port, { sni: "lobby.EXAMPLE.net", writes: [frame(0, v2())] });
    assertEquals(toHex(seen.received), expectedReferral("lobby.internal", 6000));
  });
});

Deno.test("a Connect split into single bytes, after a unidirectional stream, still routes", async () => {
  await withRouter(CONFIG, async ({ port }) => {
    const bytes = frame(0, v2());
    const writes = Array.from(bytes, (b) => new Uint8Array([b]));
    const seen = await converse(port, {
      sni: "play.example.com",
      writes,
      uniFirst: new Uint8Array(64),
    });
    // docs/protocol.md §1: a client may open a unidirectional stream; the router drops its data.
    assert(!seen.uniRefused, "the router allows one unidirectional stream");
    assertEquals(toHex(seen.received), expectedReferral("play-a.internal", 5521));
  });
});

Deno.test("a client that dialled an IP (no SNI) gets the default pool", async () => {
  await withRouter(CONFIG, async ({ port }) => {
    const seen = await converse(port, { sni: null, writes: [frame(0, v2())] });
    assertEquals(toHex(seen.received), expectedReferral("default.internal", 5520));
  });
});

Deno.test("an undecodable Connect is still routed by SNI", async () => {
  await withRouter(CONFIG, async ({ port }) => {
    const seen = await converse(port, {
      sni: "play.example.com",
      writes: [frame(0, new Uint8Array([1, 2, 3]))],
    });
    assertEquals(toHex(seen.received), expectedReferral("play-a.internal", 5521));
  });
});

Deno.test("no matching route and no default: the no_route Disconnect, templated", async () => {
  await withRouter(NO_DEFAULT, async ({ port }) => {
    const seen = await converse(port, {
      sni: "nowhere.example.org",
      writes: [frame(0, v2({ language: "en-US" }))],
    });
    const text = "No server for nowhere.example.org.";
    const utf8 = new TextEncoder().encode(text);
    assertEquals(
      toHex(seen.received),
      toHex(frame(1, new Uint8Array([1, 0, utf8.length, ...utf8]))),
    );
  });
});

Deno.test("a pool whose filters leave nothing answers no_backends in the client's language", async () => {
  await withRouter(CONFIG, async ({ port }) => {
    const seen = await converse(port, {
      sni: "empty.example.com",
      writes: [frame(0, v2({ language: "de_DE" }))],
    });
    const { frames } = splitFrames(seen.received);
    assertEquals(frames[0]!.id, 1);
    assertEquals(
      parseDisconnect(frames[0]!.payload).reason,
      "Der Server ist gerade voll oder startet neu. Bitte versuche es gleich erneut.",
    );
  });
});

Deno.test("the referral envelope verifies with the configured secret and key id", async () => {
  await withRouter(CONFIG, async ({ port }) => {
    const seen = await converse(port, { sni: "play.example.com", writes: [frame(0, v2())] });
    const referral = parseClientReferral(splitFrames(seen.received).frames[0]!.payload);
    const env = parseEnvelope(referral.data!);
    assertEquals(env.keyId, 7);
    const mac = createHmac("sha256", SECRET).update(env.signedPart).digest();
    assertEquals(toHex(env.mac!), toHex(new Uint8Array(mac)));
  });
});

Deno.test("an oversized frame length closes the stream without a reply", async () => {
  await withRouter(CONFIG, async ({ port, logs }) => {
    const header = hex("00000100 00000000"); // 65536-byte payload announced
    const seen = await converse(port, { sni: "play.example.com", writes: [header] });
    assertEquals(seen.received.length, 0);
    assert(logs.some((l) => l.includes('"outcome":"protocol_error"')), logs.join("\n"));
  });
});

Deno.test("a negative frame length closes the stream at once, without a reply", async () => {
  await withRouter(CONFIG.replace("connect_timeout: 300ms", "connect_timeout: 5s"), async (r) => {
    const started = performance.now();
    const seen = await converse(r.port, {
      sni: "play.example.com",
      writes: [hex("ffffffff 00000000")],
    });
    assertEquals(seen.received.length, 0);
    // Well before the 5 s connect_timeout: the length itself ended the connection.
    assert(performance.now() - started < 2_500, "closed by the protocol error, not the timeout");
    assert(r.logs.some((l) => l.includes('"outcome":"protocol_error"')), r.logs.join("\n"));
  });
});

Deno.test("a connection that never sends a Connect is closed after connect_timeout", async () => {
  await withRouter(CONFIG, async ({ port, logs }) => {
    const conn = await Deno.connectQuic({
      hostname: "127.0.0.1",
      port,
      serverName: "play.example.com",
      alpnProtocols: ["hytale/2"],
    });
    const started = performance.now();
    await conn.closed;
    const waited = performance.now() - started;
    // 300 ms configured; allow scheduling slack but not the 30 s idle timeout.
    assert(waited >= 250 && waited < 5_000, `closed after ${waited} ms`);
    assert(logs.some((l) => l.includes('"outcome":"timeout"')), logs.join("\n"));
  });
});

Deno.test("one log line per connection names the outcome, route and backend, never the token", async () => {
  const router = await startRouter(CONFIG);
  await converse(router.port, {
    sni: "play.example.com",
    writes: [frame(0, v2({ identityToken: "SECRET-TOKEN-VALUE" }))],
  });
  // The line is written once the connection has ended; close waits for that.
  await router.close();
  const lines = router.logs.map((l) => JSON.parse(l));
  const connections = lines.filter((l) => l.msg === "connection");
  assertEquals(connections.length, 1);
  const [line] = connections;
  assertEquals(line.outcome, "referral");
  assertEquals(line.route, "routes[0]");
  assertEquals(line.backend, "play-a.internal:5521");
  assert(typeof line.client === "string" && line.client.startsWith("127.0.0.1:"));
  assert(lines.some((l) => l.msg === "connect" && l.identity_token_present === true));
  assert(!router.logs.some((l) => l.includes("SECRET-TOKEN-VALUE")));
});

Deno.test("${error} in a message expands to the short Go-style text, not internal detail", async () => {
  const yaml = CONFIG.replace(
    'no_route: "No server for ${sni}."',
    'no_backends: "Full (${error}) at ${sni}"',
  );
  await withRouter(yaml, async ({ port }) => {
    const seen = await converse(port, {
      sni: "empty.example.com",
      writes: [frame(0, v2({ language: "en" }))],
    });
    const { frames } = splitFrames(seen.received);
    assertEquals(
      parseDisconnect(frames[0]!.payload).reason,
      "Full (no backends) at empty.example.com",
    );
  });
});
