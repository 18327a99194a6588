import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/mod.ts";
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
