import assert from "node:assert/strict";
import { ConfigErrors, parseConfig } from "../../src/config/mod.ts";
import { summaries } from "./expect_errors.ts";

function secret(yamlValue: string): Uint8Array | null {
  return parseConfig(`referral:\n  hmac_secret: ${yamlValue}\n`, "c.yaml").referral.hmacSecret;
}

const bytes = (...b: number[]) => new Uint8Array(b);
const utf8 = (s: string) => new TextEncoder().encode(s);

Deno.test("a raw secret is its UTF-8 bytes, trimmed", () => {
  assert.deepEqual(secret("'  s3cret \u00e9 '"), utf8("s3cret \u00e9"));
});

Deno.test("base64: and hex: prefixes decode, any case, whitespace trimmed", () => {
  assert.deepEqual(secret("'base64:AAEC/w=='"), bytes(0, 1, 2, 255));
  assert.deepEqual(secret("' BASE64: AAEC/w== '"), bytes(0, 1, 2, 255));
  assert.deepEqual(secret("'hex:00ff10'"), bytes(0, 255, 16));
  assert.deepEqual(secret("'Hex: DEADbeef '"), bytes(0xde, 0xad, 0xbe, 0xef));
});

Deno.test("base64 follows Go's StdEncoding: padding required, line breaks skipped", () => {
  assert.deepEqual(secret('"base64:AAEC\\n/w=="'), bytes(0, 1, 2, 255));
  assert.deepEqual(summaries("referral: { hmac_secret: 'base64:AAEC/w' }\n"), [
    "invalid referral.hmac_secret 1:26",
  ]);
  assert.deepEqual(summaries("referral: { hmac_secret: 'base64:AA-_' }\n"), [
    "invalid referral.hmac_secret 1:26",
  ]);
});

Deno.test("hex needs an even number of hex digits", () => {
  assert.deepEqual(summaries("referral: { hmac_secret: 'hex:0g' }\n"), [
    "invalid referral.hmac_secret 1:26",
  ]);
  assert.deepEqual(summaries("referral: { hmac_secret: 'hex:012' }\n"), [
    "invalid referral.hmac_secret 1:26",
  ]);
});

Deno.test("no secret, or a blank one, means envelopes are not signed", () => {
  assert.equal(parseConfig("", "c.yaml").referral.hmacSecret, null);
  assert.equal(secret("''"), null);
  assert.equal(secret("'   '"), null);
  assert.equal(secret("~"), null);
});

Deno.test("a prefix with nothing after it is refused rather than turning signing off", () => {
  assert.deepEqual(summaries("referral: { hmac_secret: 'base64:' }\n"), [
    "invalid referral.hmac_secret 1:26",
  ]);
  assert.deepEqual(summaries("referral: { hmac_secret: 'hex: ' }\n"), [
    "invalid referral.hmac_secret 1:26",
  ]);
});

// ---- no error message echoes a secret (issue 12) ----

/** Every message parsing `text` produces (joined), or "" when it parses. */
function messagesOf(text: string, source: string): string {
  try {
    parseConfig(text, source);
    return "";
  } catch (e) {
    if (e instanceof ConfigErrors) {
      return e.errors.map((x) => `${x.message} ${x.hint ?? ""}`).join("\n");
    }
    throw e;
  }
}

Deno.test("a numeric or boolean hmac_secret is a type error that does not echo the value", () => {
  for (const key of ["hmac_secret", "HMAC_Secret"]) { // JSON keys match case-insensitively
    const text = `{"referral": {"${key}": 90210733}}`;
    assert.deepEqual(summaries(text, "c.json"), [
      "type referral.hmac_secret 1:" + (key.length + 19),
    ]);
    const message = messagesOf(text, "c.json");
    assert.match(message, /expected a string, got a number/);
    assert.ok(!message.includes("90210733"), message);
  }
  const flag = messagesOf('{"referral": {"hmac_secret": true}}', "c.json");
  assert.match(flag, /got a boolean/);
  assert.ok(!flag.includes("true"), flag);
  // Other fields still show what they got: only secrets are withheld.
  assert.match(messagesOf('{"referral": {"key_id": "7"}}', "c.json"), /got the string "7"/);
});

Deno.test("no config error message contains a secret, whatever is wrong around it", () => {
  const S = "Sup3rS3cretV4lue";
  const broken: Array<[string, string]> = [
    [`referral:\n  hmac_secret: "${S}\n`, "c.yaml"], // unterminated quote
    [`referral:\n  hmac_secret: ${S}: x\n`, "c.yaml"], // nested compact mapping
    [`referral:\n  hmac_secret: '${S}\n`, "c.yaml"],
    [`referral:\n  hmac_secret: ${S}\n  hmac_secret: ${S}\n`, "c.yaml"], // repeated key
    [`referral:\n  hmac_secret: [${S}\n`, "c.yaml"],
    [`referral:\n  hmac_secret: "${S}\\q"\n`, "c.yaml"], // bad escape
    [`referral:\n  hmac_secret: ${S}\n bad: 1\n`, "c.yaml"],
    [`referral:\n  hmac_secret:\n    - ${S}\n`, "c.yaml"],
    [`referral:\n  hmac_secret: 'base64:${S}!'\n`, "c.yaml"],
    [`referral:\n  hmac_secret: 'hex:${S}'\n`, "c.yaml"],
    [`referral:\n  hmac_secret: 'hex:'\n  key_id: 300\n`, "c.yaml"],
    [`{"referral": {"hmac_secret": "${S}}}`, "c.json"],
    [`{"referral": {"hmac_secret": ["${S}"]}}`, "c.json"],
    [`{"referral": {"hmac_secret": "base64:${S}!"}}`, "c.json"],
  ];
  for (const [text, source] of broken) {
    const message = messagesOf(text, source);
    assert.notEqual(message, "", `${JSON.stringify(text)} should be rejected`);
    assert.ok(!message.includes(S), message);
  }
});

Deno.test("a YAML alias repeating a secret elsewhere does not carry it into an error", () => {
  const text = [
    "referral:",
    '  hmac_secret: &s "alias-me-if-you-can"',
    "listen: *s",
    "plugins:",
    "  - { name: p, type: grpc, grpc: { address: *s } }",
    "",
  ].join("\n");
  let messages = "";
  try {
    parseConfig(text, "c.yaml");
  } catch (err) {
    assert.ok(err instanceof ConfigErrors);
    messages = err.errors.map((e) => `${e.message} ${e.detail}`).join("\n");
  }
  assert.match(messages, /listen: invalid address "<redacted>"/);
  assert.match(messages, /plugins\[0\]\.grpc\.address/);
  assert.doesNotMatch(messages, /alias-me-if-you-can/);
});
