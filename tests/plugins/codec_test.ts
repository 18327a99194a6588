import { assertEquals, assertThrows } from "../support/assert.ts";
import assert from "node:assert/strict";
import { PluginError } from "../../src/plugins/mod.ts";
import {
  decodeResponse,
  encodeRequest,
  MAX_RESPONSE_BYTES,
  MAX_RESPONSE_VALUES,
} from "../../src/plugins/codec.ts";
import { SAMPLE_EVENT } from "./fake_transport.ts";

const event = SAMPLE_EVENT;
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const json = (s: string) => new TextEncoder().encode(s);

Deno.test("the request has the Go router's exact JSON shape when nothing is selected", () => {
  const bytes = encodeRequest("play.example.com", event, {
    strategy: "",
    candidates: [],
    selectedIndex: -1,
    backend: null,
    referralContent: new Uint8Array(0),
  });
  assertEquals(
    text(bytes),
    '{"event":{"sni":"play.example.com","uuid":"d3e6ef90-e113-49a7-a845-1c11f24fe166",' +
      '"username":"Krymo","language":"de-DE"},"strategy":"","candidates":null,' +
      '"selected_index":-1,"backend":{"host":"","port":0,"weight":0,"meta":null}}',
  );
});

Deno.test("the request carries candidates, selection, optional event fields and base64 content", () => {
  const a = { host: "a.internal", port: 5520, weight: 1, meta: { k: "v" } };
  const bytes = encodeRequest("x", {
    ...event,
    protocolHash: "abc",
    clientType: 1,
    identityTokenPresent: true,
  }, {
    strategy: "round_robin",
    candidates: [a],
    selectedIndex: 0,
    backend: a,
    referralContent: new TextEncoder().encode("grpc-plugin"),
  });
  assertEquals(JSON.parse(text(bytes)), {
    event: {
      sni: "x",
      protocol_hash: "abc",
      client_type: 1,
      uuid: event.uuid,
      username: "Krymo",
      language: "de-DE",
      identity_token_present: true,
    },
    strategy: "round_robin",
    candidates: [a],
    selected_index: 0,
    backend: a,
    referral_content: "Z3JwYy1wbHVnaW4=",
  });
});

Deno.test("responses: every field optional, unknown fields ignored, referral_data accepted", () => {
  assertEquals(decodeResponse(json("{}"), "p"), {
    deny: false,
    denyReason: "",
    candidates: null,
    selectedIndex: null,
    backend: null,
    referralContent: null,
  });
  const r = decodeResponse(
    json('{"deny":true,"deny_reason":"no","extra":[1],"referral_data":"d2FzbS1wbHVnaW4="}'),
    "p",
  );
  assertEquals([r.deny, r.denyReason, text(r.referralContent!)], [true, "no", "wasm-plugin"]);
  const both = decodeResponse(json('{"referral_content":"YQ==","referral_data":"Yg=="}'), "p");
  assertEquals(text(both.referralContent!), "a");
  const b = decodeResponse(json('{"backend":{"host":"h","port":1}}'), "p").backend;
  assertEquals(b, { host: "h", port: 1, weight: 0, meta: null });
});

Deno.test("malformed responses are bad_response plugin errors naming the plugin and field", () => {
  const cases: [string, RegExp][] = [
    ["not json", /not JSON/],
    ["[1]", /not a JSON object/],
    ['{"deny":"yes"}', /"deny": expected true or false/],
    ['{"selected_index":1.5}', /"selected_index": expected an integer/],
    ['{"backend":{"host":1,"port":1}}', /backend host must be a string/],
    ['{"backend":{"host":"h","port":70000}}', /port must be an integer 0-65535/],
    ['{"candidates":[{"host":"h","port":1,"meta":{"a":1}}]}', /\[0\]: backend meta values/],
    ['{"referral_content":"***"}', /invalid base64/],
  ];
  for (const [body, message] of cases) {
    const err = assertThrows(() => decodeResponse(json(body), "auth"), PluginError);
    assertEquals(err.kind, "bad_response");
    assertEquals(err.plugin, "auth");
    assertEquals(message.test(err.message), true, `${body}: ${err.message}`);
  }
});

Deno.test("like Go's encoding/json: keys match case-insensitively, missing backend fields are zero", () => {
  const r = decodeResponse(json('{"Deny":false,"Backend":{"Host":"h"},"SELECTED_INDEX":2}'), "p");
  assertEquals(r.backend, { host: "h", port: 0, weight: 0, meta: null });
  assertEquals(r.selectedIndex, 2);
  const bad = new Uint8Array([...json('{"deny_reason":"'), 0xff, ...json('"}')]);
  assertEquals(decodeResponse(bad, "p").denyReason, "\ufffd");
});

Deno.test("a response with too many JSON values or bytes is a bad_response before it is parsed", () => {
  const backends = Array.from(
    { length: 20_000 },
    (_, i) => ({ host: `b${i}.internal`, port: 5520 }),
  );
  const many = new TextEncoder().encode(JSON.stringify({ candidates: backends }));
  assert.throws(
    () => decodeResponse(many, "p"),
    (e: unknown) =>
      e instanceof PluginError && e.kind === "bad_response" &&
      e.message.includes(`response holds over ${MAX_RESPONSE_VALUES} JSON values`),
  );
  // Braces and commas inside strings are text, not values.
  const reason = "{,[".repeat(100_000);
  const text = decodeResponse(json(JSON.stringify({ deny: true, deny_reason: reason })), "p");
  assertEquals(text.denyReason, reason);
  const fits = new TextEncoder().encode(JSON.stringify({ candidates: backends.slice(0, 10_000) }));
  assert.equal(decodeResponse(fits, "p").candidates?.length, 10_000);
  const huge = new Uint8Array(MAX_RESPONSE_BYTES + 1).fill(0x20);
  assert.throws(
    () => decodeResponse(huge, "p"),
    (e: unknown) => e instanceof PluginError && /bytes is over 8388608/.test(e.message),
  );
});
