// Encoders against hand-written bytes. Every expected value below was written out by hand from
// docs/protocol.md (or, for MACs, computed by another HMAC implementation), never by the code under
// test.
import { assertEquals, assertThrows } from "../support/assert.ts";
import { createHmac } from "node:crypto";
import {
  createEnvelopeSealer,
  encodeClientReferral,
  encodeConnect,
  encodeDisconnect,
  encodeFrame,
  PacketId,
  ProtocolError,
} from "../../src/protocol/mod.ts";
import { hex, toHex } from "../support/hytale_client_codec.ts";

const UTF8 = new TextEncoder();

Deno.test("packet ids match docs/protocol.md §2", () => {
  assertEquals(
    [
      PacketId.Connect,
      PacketId.Disconnect,
      PacketId.Ping,
      PacketId.Pong,
      PacketId.ConnectAccept,
      PacketId.ClientReferral,
    ],
    [0, 1, 2, 3, 14, 18],
  );
});

Deno.test("ClientReferral: the spec example (play.example.com:5520, no data)", () => {
  assertEquals(
    toHex(encodeClientReferral("play.example.com", 5520, null)),
    "01" + "00000000" + "ffffffff" + "9015" + "10" + "706c61792e6578616d706c652e636f6d",
  );
});

Deno.test("ClientReferral: with data, the data offset points past the HostAddress", () => {
  assertEquals(
    toHex(encodeClientReferral("a.b", 5520, hex("010203"))),
    "03" + "00000000" + "06000000" + "9015" + "03612e62" + "03010203",
  );
});

Deno.test("ClientReferral: empty data is present with length 0; null data is absent", () => {
  assertEquals(
    toHex(encodeClientReferral("a.b", 1, new Uint8Array(0))),
    "03" + "00000000" + "06000000" + "0100" + "03612e62" + "00",
  );
  assertEquals(
    toHex(encodeClientReferral("a.b", 65535, null)),
    "01" + "00000000" + "ffffffff" + "ffff" + "03612e62",
  );
});

Deno.test("ClientReferral: limits on host, port and data", () => {
  const fails = (host: string, port: number, data: Uint8Array | null, code: string) => {
    const err = assertThrows(() => encodeClientReferral(host, port, data), ProtocolError);
    assertEquals(err.code, code);
  };
  fails("", 5520, null, "bad_string");
  fails("h".repeat(257), 5520, null, "too_long");
  fails("é".repeat(129), 5520, null, "too_long"); // 258 UTF-8 bytes in 129 characters
  fails("h", 65536, null, "bad_value");
  fails("h", -1, null, "bad_value");
  fails("h", 5520, new Uint8Array(4097), "too_long");
  // The limits themselves are fine: 256-byte host, 4096 bytes of data.
  assertEquals(
    encodeClientReferral("h".repeat(256), 1, new Uint8Array(4096)).length,
    9 + 2 + 2 + 256 + 2 + 4096,
  );
});

Deno.test("Disconnect: empty reason is exactly 00 00", () => {
  assertEquals(toHex(encodeDisconnect("")), "0000");
});

Deno.test("Disconnect: reason as 01 00 + VarString (UTF-8 byte length, multi-byte VarInt)", () => {
  assertEquals(toHex(encodeDisconnect("Bye")), "0100" + "03" + "427965");
  assertEquals(toHex(encodeDisconnect("Grüße")), "0100" + "07" + "4772c3bcc39f65");
  assertEquals(toHex(encodeDisconnect("x".repeat(200))), "0100" + "c801" + "78".repeat(200));
});

Deno.test("Disconnect: reason over 4,096,000 bytes is refused", () => {
  assertEquals(encodeDisconnect("x".repeat(4_096_000)).length, 2 + 4 + 4_096_000);
  const err = assertThrows(() => encodeDisconnect("x".repeat(4_096_001)), ProtocolError);
  assertEquals(err.code, "too_long");
});

Deno.test("frame: u32le length, u32le id, payload", () => {
  assertEquals(toHex(encodeFrame(1, hex("0000"))), "02000000" + "01000000" + "0000");
  assertEquals(toHex(encodeFrame(18, new Uint8Array(0))), "00000000" + "12000000");
  assertEquals(toHex(encodeFrame(0xffffffff, hex("ab"))), "01000000" + "ffffffff" + "ab");
  assertEquals(
    assertThrows(() => encodeFrame(-1, new Uint8Array(0)), ProtocolError).code,
    "bad_value",
  );
});

Deno.test("Connect v2 encoder: required fields only", () => {
  const payload = encodeConnect({
    protocolCrc: 0x01020304,
    protocolBuildNumber: 7,
    clientVersion: "1.0",
    clientType: 1,
    uuid: "D3E6EF90-E113-49A7-A845-1C11F24FE166",
    username: "Krymo",
    language: "de-DE",
  });
  assertEquals(
    toHex(payload),
    "00" + // null_bits
      "04030201" + "07000000" + // crc, build number
      "312e30" + "00".repeat(17) + // client_version "1.0", NUL-padded to 20
      "01" + // client_type
      "d3e6ef90e11349a7a8451c11f24fe166" + // uuid
      "00000000" + "ffffffff" + "06000000" + "ffffffff" + "ffffffff" + // offset slots
      "054b72796d6f" + "0564652d4445", // username, language
  );
});

Deno.test("Connect v2 encoder: every optional field present, negative crc", () => {
  const payload = encodeConnect({
    protocolCrc: -2,
    uuid: "00000000-0000-0000-0000-000000000001",
    username: "u",
    language: "en",
    identityToken: "tok",
    referralData: hex("0a0b"),
    referralSource: { host: "h", port: 1 },
  });
  assertEquals(
    toHex(payload),
    "07" + "feffffff" + "00000000" + "00".repeat(20) + "00" + "00".repeat(15) + "01" +
      "00000000" + "02000000" + "06000000" + "09000000" + "0c000000" +
      "0175" + "03746f6b" + "02656e" + "020a0b" + "0100" + "0168",
  );
});

Deno.test("Connect v2 encoder: refuses what a v2 decoder would reject", () => {
  const base = { uuid: "00000000-0000-0000-0000-000000000001", username: "u", language: "en" };
  const code = (f: Parameters<typeof encodeConnect>[0]) =>
    assertThrows(() => encodeConnect(f), ProtocolError).code;
  assertEquals(code({ ...base, username: "u".repeat(17) }), "too_long");
  assertEquals(code({ ...base, language: "l".repeat(17) }), "too_long");
  assertEquals(code({ ...base, identityToken: "t".repeat(8193) }), "too_long");
  assertEquals(code({ ...base, referralData: new Uint8Array(4097) }), "too_long");
  assertEquals(code({ ...base, clientVersion: "v".repeat(21) }), "bad_string");
  assertEquals(code({ ...base, clientVersion: "ü" }), "bad_string");
  assertEquals(code({ ...base, uuid: "not-a-uuid" }), "bad_string");
  assertEquals(code({ ...base, clientType: 256 }), "bad_value");
  assertEquals(code({ ...base, protocolCrc: 2 ** 31 }), "bad_value");
});

Deno.test("envelope: unsigned, key id 7, content 'hi'", () => {
  const sealer = createEnvelopeSealer(7, null);
  assertEquals(sealer.signed, false);
  assertEquals(sealer.maxContentBytes, 4096 - 9);
  assertEquals(
    toHex(sealer.seal(UTF8.encode("hi"))),
    "48595250" + "01" + "00" + "07" + "0200" + "6869",
  );
  assertEquals(
    toHex(sealer.seal(new Uint8Array(0))),
    "48595250" + "01" + "00" + "07" + "0000",
  );
});

Deno.test("envelope: signed, MAC from an independent HMAC implementation", () => {
  const sealer = createEnvelopeSealer(3, UTF8.encode("s3cret"));
  assertEquals(sealer.signed, true);
  assertEquals(sealer.maxContentBytes, 4096 - 9 - 32);
  const header = "48595250" + "01" + "01" + "03" + "0200" + "6869";
  // Computed with Python's hmac module when the test was written…
  const pythonMac = "361ff00a23e60e072856a4fefd6666506c27cb172002d61a9133d8e06f38e8f6";
  // …and again here with node:crypto.
  const nodeMac = createHmac("sha256", "s3cret").update(hex(header)).digest("hex");
  assertEquals(nodeMac, pythonMac);
  assertEquals(toHex(sealer.seal(UTF8.encode("hi"))), header + pythonMac);
});

Deno.test("envelope: signed empty content with a binary key", () => {
  const key = hex("00112233445566778899aabbccddeeff");
  const sealer = createEnvelopeSealer(0, key);
  assertEquals(
    toHex(sealer.seal(new Uint8Array(0))),
    "48595250" + "01" + "01" + "00" + "0000" +
      "02bdc359beb8f3ad59af75c508848c42108d8a73cac971f601c5952602bd2ada",
  );
});

Deno.test("envelope: content that would not fit in 4096 bytes is envelope_too_large", () => {
  const unsigned = createEnvelopeSealer(0, null);
  assertEquals((unsigned.seal(new Uint8Array(4087))).length, 4096);
  const e1 = assertThrows(() => unsigned.seal(new Uint8Array(4088)), ProtocolError);
  assertEquals(e1.code, "envelope_too_large");
  const signed = createEnvelopeSealer(0, UTF8.encode("k"));
  assertEquals((signed.seal(new Uint8Array(4055))).length, 4096);
  const e2 = assertThrows(() => signed.seal(new Uint8Array(4056)), ProtocolError);
  assertEquals(e2.code, "envelope_too_large");
});

Deno.test("envelope sealer: key id must be a u8, secret must not be empty", () => {
  assertEquals(
    (assertThrows(() => createEnvelopeSealer(256, null), ProtocolError)).code,
    "bad_value",
  );
  assertEquals(
    (assertThrows(() => createEnvelopeSealer(-1, null), ProtocolError)).code,
    "bad_value",
  );
  assertEquals(
    (assertThrows(() => createEnvelopeSealer(0, new Uint8Array(0)), ProtocolError)).code,
    "bad_secret",
  );
  assertEquals(
    toHex((createEnvelopeSealer(255, null)).seal(hex(""))),
    "4859525001" + "00ff0000",
  );
});
