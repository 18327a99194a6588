/** The connection pipeline with plugins, over real QUIC, using in-memory plugin transports. */
import { createHmac } from "node:crypto";
import { assert, assertEquals } from "../support/assert.ts";
import {
  buildConnectV2,
  frame,
  parseClientReferral,
  parseDisconnect,
  parseEnvelope,
  splitFrames,
} from "../support/hytale_client_codec.ts";
import { converse, startRouter } from "../support/router_harness.ts";
import { PluginError } from "../../src/plugins/mod.ts";
import {
  type FakeBehaviour,
  FakeConnectTransport,
  FakeTransport,
} from "../plugins/fake_transport.ts";

const CONFIG = `
listen: "127.0.0.1:0"
referral: { key_id: 2, hmac_secret: "s3cret" }
routing:
  routes:
    - match: { hostname: "play.example.com" }
      pool: { strategy: round_robin, backends: [{ host: a.internal, port: 5520 }] }
plugins:
  - { name: gate, type: grpc, stage: deny, grpc: { address: 127.0.0.1:1 } }
  - { name: shape, type: wasm, stage: mutate, wasm: { path: x.wasm } }
  - { name: strict, type: grpc, stage: mutate, failure_policy: deny, grpc: { address: 127.0.0.1:2 } }
`;
const UUID = "d3e6ef90-e113-49a7-a845-1c11f24fe166";

async function run(
  behaviours: Record<string, FakeBehaviour>,
  sni: string,
  username = "Krymo",
  payload?: Uint8Array,
) {
  const fakes = new Map(
    ["gate", "shape", "strict"].map((
      n,
    ) => [n, new FakeTransport(n, behaviours[n] ?? (() => ({})))]),
  );
  const router = await startRouter(CONFIG, {}, (c) => Promise.resolve(fakes.get(c.name)!));
  try {
    const connect = payload ?? buildConnectV2({ uuid: UUID, username, language: "fr-FR" });
    const seen = await converse(router.port, { sni, writes: [frame(0, connect)] });
    return { frame: splitFrames(seen.received).frames[0]!, fakes };
  } finally {
    await router.close();
  }
}

Deno.test("a deny-stage plugin's deny reaches the player as a Disconnect with its reason", async () => {
  const { frame: f, fakes } = await run(
    {
      gate: (req) =>
        (req.event as { username: string }).username === "deny"
          ? { deny: true, deny_reason: "denied by test plugin" }
          : {},
    },
    "play.example.com",
    "deny",
  );
  assertEquals(f.id, 1);
  assertEquals(parseDisconnect(f.payload).reason, "denied by test plugin");
  assertEquals(fakes.get("shape")!.requests.length, 0);
});

Deno.test("plugin referral content is sealed and signed in the envelope", async () => {
  const { frame: f, fakes } = await run({
    shape: () => ({
      referral_content: btoa("wasm-plugin"),
      backend: { host: "play.example.com", port: 5520 },
    }),
  }, "play.example.com");
  const referral = parseClientReferral(f.payload);
  assertEquals([referral.host, referral.port], ["play.example.com", 5520]);
  const env = parseEnvelope(referral.data!);
  assertEquals(new TextDecoder().decode(env.content), "wasm-plugin");
  const mac = createHmac("sha256", "s3cret").update(env.signedPart).digest();
  assertEquals(Array.from(env.mac!), Array.from(mac));
  // The request the mutate plugin saw was the routing decision.
  const seen = fakes.get("shape")!.requests[0]!;
  assertEquals(seen.strategy, "round_robin");
  assertEquals((seen.backend as { host: string }).host, "a.internal");
  assertEquals((seen.event as { sni: string }).sni, "play.example.com");
});

Deno.test("a plugin can route a connection no route matched", async () => {
  const { frame: f, fakes } = await run({
    gate: () => ({ backend: { host: "rescue.internal", port: 6000 } }),
  }, "unknown.example.org");
  assertEquals(parseClientReferral(f.payload).host, "rescue.internal");
  const seen = fakes.get("gate")!.requests[0]!;
  assertEquals([seen.selected_index, seen.candidates], [-1, null]);
});

Deno.test("without a plugin backend, a failed route still gets its localized message", async () => {
  const { frame: f } = await run({}, "unknown.example.org");
  assertEquals(parseDisconnect(f.payload).reason, "Le serveur est actuellement indisponible.");
});

Deno.test("failure_policy deny: a failing plugin denies with the routing_error text, no internals", async () => {
  const { frame: f } = await run({
    strict: () => new PluginError("strict", "timeout", "no answer within 1000 ms"),
  }, "play.example.com");
  const reason = parseDisconnect(f.payload).reason;
  assertEquals(reason, "Le serveur est actuellement inaccessible. Réessaie plus tard.");
  assert(!reason.includes("1000"));
});

Deno.test("an undecodable Connect still goes through the plugins, with the SNI alone", async () => {
  const { frame: f, fakes } = await run({}, "play.example.com", "x", new Uint8Array([1, 2, 3]));
  assertEquals(parseClientReferral(f.payload).host, "a.internal");
  assertEquals([...fakes.values()].map((p) => p.requests.length), [1, 1, 1]);
  assertEquals(fakes.get("gate")!.requests[0]!.event, { sni: "play.example.com" });
});

Deno.test("a garbage Connect cannot bypass a deny plugin", async () => {
  const { frame: f } = await run(
    {
      gate: (
        req,
      ) => ((req.event as { uuid?: string }).uuid ? {} : { deny: true, deny_reason: "who?" }),
    },
    "play.example.com",
    "x",
    new Uint8Array([1, 2, 3]),
  );
  assertEquals(parseDisconnect(f.payload).reason, "who?");
});

Deno.test("a deny_reason too long for a Disconnect becomes the routing_error text", async () => {
  const { frame: f } = await run({
    gate: () => ({ deny: true, deny_reason: "x".repeat(4_096_001) }),
  }, "play.example.com");
  assertEquals(
    parseDisconnect(f.payload).reason,
    "Le serveur est actuellement inaccessible. Réessaie plus tard.",
  );
});

Deno.test("a structured plugin gets the client address and matched route, then hears the end", async () => {
  const structured = new FakeConnectTransport("gate", {
    deny: false,
    denyReason: "",
    candidates: null,
    selectedIndex: null,
    backend: null,
    referralContent: null,
  });
  const { calls } = structured;
  const others = (name: string) => new FakeTransport(name, () => ({}));
  const router = await startRouter(
    CONFIG,
    {},
    (c) => Promise.resolve(c.name === "gate" ? structured : others(c.name)),
  );
  try {
    const connect = frame(0, buildConnectV2({ uuid: UUID, username: "Krymo", language: "fr" }));
    const seen = await converse(router.port, { sni: "play.example.com", writes: [connect] });
    const reply = splitFrames(seen.received).frames[0]!;
    assertEquals(reply.id, 18);
    assertEquals(calls.length, 1);
    assert(/^127\.0\.0\.1:\d+$/.test(calls[0]!.client), calls[0]!.client);
    assertEquals(calls[0]!.route?.hostname, "play.example.com");
    assertEquals(calls[0]!.route?.glob, false);
    const end = await structured.firstEnd;
    assertEquals(end.client, calls[0]!.client);
    assertEquals([end.outcome, end.target, end.username, end.uuid], [
      "referral",
      "a.internal:5520",
      "Krymo",
      UUID,
    ]);
    assertEquals(end.rxBytes, connect.length);
    assertEquals(end.txBytes, seen.received.length);
    assert(end.durationMs >= 0);
  } finally {
    await router.close();
  }
});
