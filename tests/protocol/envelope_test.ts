import { assert, assertEquals, assertThrows } from "../support/assert.ts";
import { createHmac } from "node:crypto";
import {
  createEnvelopeSealer,
  openEnvelope,
  parseHmacSecret,
  ProtocolError,
} from "../../src/protocol/mod.ts";
import { hex, parseEnvelope, toHex } from "../support/hytale_client_codec.ts";

const UTF8 = new TextEncoder();
const SECRET = UTF8.encode("s3cret");
/** key id 3, content "hi", signed with "s3cret" (MAC computed with Python's hmac). */
const SIGNED = hex(
  "48595250" + "01" + "01" + "03" + "0200" + "6869" +
    "361ff00a23e60e072856a4fefd6666506c27cb172002d61a9133d8e06f38e8f6",
);

Deno.test("openEnvelope: unsigned envelope", () => {
  const opened = openEnvelope(hex("48595250" + "01" + "00" + "07" + "0200" + "6869"), SECRET);
  assertEquals(opened, { keyId: 7, signed: false, content: UTF8.encode("hi"), valid: null });
});

Deno.test("openEnvelope: signed envelope verifies with the right secret only", () => {
  assertEquals(openEnvelope(SIGNED, SECRET), {
    keyId: 3,
    signed: true,
    content: UTF8.encode("hi"),
    valid: true,
  });
  assertEquals((openEnvelope(SIGNED, UTF8.encode("s3creT"))).valid, false);
  assertEquals((openEnvelope(SIGNED, null)).valid, null);
});

Deno.test("openEnvelope: any changed byte breaks the MAC", () => {
  for (const at of [4 + 2, 9, 10, SIGNED.length - 1]) {
    const tampered = SIGNED.slice();
    tampered[at] = (tampered[at] ?? 0) ^ 0x01;
    assertEquals((openEnvelope(tampered, SECRET)).valid, false, `byte ${at}`);
  }
});

Deno.test("openEnvelope: unknown flag bits are ignored", () => {
  const opened = openEnvelope(hex("48595250" + "01" + "02" + "00" + "0000"), SECRET);
  assertEquals(opened, { keyId: 0, signed: false, content: new Uint8Array(0), valid: null });
});

Deno.test("openEnvelope: malformed envelopes", () => {
  const code = (h: string | Uint8Array) =>
    assertThrows(() => openEnvelope(typeof h === "string" ? hex(h) : h, null), ProtocolError).code;
  assertEquals(code(""), "bad_envelope");
  assertEquals(code("48595250010000"), "bad_envelope"); // header cut short
  assertEquals(code("48595251" + "01000000" + "00"), "bad_envelope"); // magic
  assertEquals(code("48595250" + "02000000" + "00"), "bad_envelope"); // version
  assertEquals(code("48595250" + "01000003" + "00" + "6869"), "bad_envelope"); // short content
  assertEquals(code("48595250" + "01000002" + "00" + "6869" + "00"), "bad_envelope"); // trailing
  assertEquals(code("48595250" + "01010000" + "00" + "00".repeat(31)), "bad_envelope"); // MAC cut
  const big = new Uint8Array(4097);
  big.set(hex("48595250" + "0100" + "00" + "f80f")); // content_len 4088: 4097 bytes in all
  assertEquals(code(big), "envelope_too_large");
});

Deno.test("sealer → client codec → node:crypto: the MAC covers header and content", async () => {
  const secret = parseHmacSecret("base64:c2VjcmV0LWtleQ=="); // "secret-key"
  const sealer = await createEnvelopeSealer(42, secret);
  const content = UTF8.encode(JSON.stringify({ lobby: "eu-1", party: [1, 2, 3] }));
  const envelope = await sealer.seal(content);
  const parsed = parseEnvelope(envelope);
  assertEquals(parsed.flags, 1);
  assertEquals(parsed.keyId, 42);
  assertEquals(parsed.content, content);
  const expected = createHmac("sha256", "secret-key").update(parsed.signedPart).digest("hex");
  assert(parsed.mac !== null);
  assertEquals(toHex(parsed.mac), expected);
  assertEquals((openEnvelope(envelope, secret)).valid, true);
});

Deno.test("parseHmacSecret: raw text is its trimmed UTF-8 bytes", () => {
  assertEquals(parseHmacSecret("s3cret"), UTF8.encode("s3cret"));
  assertEquals(parseHmacSecret("  s3cret \n"), UTF8.encode("s3cret"));
  assertEquals(parseHmacSecret("ключ"), UTF8.encode("ключ"));
  assertEquals(parseHmacSecret("hexagon"), UTF8.encode("hexagon")); // no colon, no prefix
  assertEquals(parseHmacSecret("b64:aGk="), UTF8.encode("b64:aGk=")); // not a known prefix
});

Deno.test("parseHmacSecret: base64: and hex: prefixes, any case, inner whitespace trimmed", () => {
  assertEquals(parseHmacSecret("base64:aGVsbG8="), UTF8.encode("hello"));
  assertEquals(parseHmacSecret(" BASE64: aGVsbG8= "), UTF8.encode("hello"));
  assertEquals(parseHmacSecret("Base64:aGVs\nbG8="), UTF8.encode("hello")); // line breaks skipped
  assertEquals(parseHmacSecret("hex:00ff"), hex("00ff"));
  assertEquals(parseHmacSecret("HEX:00FF"), hex("00ff"));
  assertEquals(parseHmacSecret("\thex: 0a0B\n"), hex("0a0b"));
});

Deno.test("parseHmacSecret: invalid or empty secrets are bad_secret, without echoing them", () => {
  for (
    const text of [
      "base64:!!!*",
      "base64:a",
      "base64:aGVsbG8",
      "hex:0g",
      "hex:abc",
      "",
      "   ",
      "hex:",
      "base64: ",
    ]
  ) {
    const err = assertThrows(() => parseHmacSecret(text), ProtocolError);
    assertEquals(err.code, "bad_secret", JSON.stringify(text));
    assert(err.message.startsWith("referral.hmac_secret"), err.message);
  }
  const err = assertThrows(() => parseHmacSecret("hex:TOPSECRETzz"), ProtocolError);
  assert(!err.message.includes("TOPSECRET"), err.message);
});
