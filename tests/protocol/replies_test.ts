// The router's replies as a client decodes them: decodeDisconnect / decodeClientReferral on
// hand-written bytes, and the encoders' output read back by the independent client codec.
import { assertEquals, assertThrows } from "../support/assert.ts";
import {
  decodeClientReferral,
  decodeDisconnect,
  encodeClientReferral,
  encodeDisconnect,
  ProtocolError,
} from "../../src/protocol/mod.ts";
import { hex, parseClientReferral, parseDisconnect } from "../support/hytale_client_codec.ts";

const code = (fn: () => unknown) => assertThrows(fn, ProtocolError).code;

Deno.test("decodeDisconnect: empty and with reason", () => {
  assertEquals(decodeDisconnect(hex("0000")), { reason: "" });
  assertEquals(decodeDisconnect(hex("0100" + "03427965")), { reason: "Bye" });
  assertEquals(decodeDisconnect(hex("0100" + "074772c3bcc39f65")), { reason: "Grüße" });
  // No null bit: no reason, whatever follows.
  assertEquals(decodeDisconnect(hex("0005" + "03427965")), { reason: "" });
});

Deno.test("decodeDisconnect: malformed payloads", () => {
  assertEquals(code(() => decodeDisconnect(hex(""))), "bad_packet");
  assertEquals(code(() => decodeDisconnect(hex("01"))), "bad_packet");
  assertEquals(code(() => decodeDisconnect(hex("0100"))), "truncated");
  assertEquals(code(() => decodeDisconnect(hex("0100" + "0542"))), "truncated");
  assertEquals(code(() => decodeDisconnect(hex("0100" + "ffffffffff01"))), "bad_varint");
  assertEquals(code(() => decodeDisconnect(hex("0100" + "8180fa01"))), "too_long"); // 4,096,001
});

Deno.test("encodeDisconnect output reads back with the client codec", () => {
  for (const reason of ["", "Bye", "Der Server ist gerade voll. 🙂", "x".repeat(70_000)]) {
    assertEquals(parseDisconnect(encodeDisconnect(reason)), { reason });
    assertEquals(decodeDisconnect(encodeDisconnect(reason)), { reason });
  }
});

Deno.test("decodeClientReferral: the spec example and one with data", () => {
  assertEquals(
    decodeClientReferral(hex("01 00000000 ffffffff 9015 10 706c61792e6578616d706c652e636f6d")),
    { host: "play.example.com", port: 5520, data: null },
  );
  assertEquals(
    decodeClientReferral(hex("03 00000000 06000000 9015 03612e62 03010203")),
    { host: "a.b", port: 5520, data: hex("010203") },
  );
});

Deno.test("decodeClientReferral follows the offsets (data before host)", () => {
  assertEquals(
    decodeClientReferral(hex("03 04000000 00000000 03010203 9015 03612e62")),
    { host: "a.b", port: 5520, data: hex("010203") },
  );
});

Deno.test("decodeClientReferral: malformed payloads", () => {
  assertEquals(code(() => decodeClientReferral(hex("01000000"))), "bad_packet");
  assertEquals(code(() => decodeClientReferral(hex("02 ffffffff 00000000 00"))), "bad_packet");
  assertEquals(code(() => decodeClientReferral(hex("01 ffffffff ffffffff 9015 00"))), "bad_packet");
  assertEquals(code(() => decodeClientReferral(hex("01 00000000 ffffffff 9015 00"))), "bad_string");
  assertEquals(
    code(() => decodeClientReferral(hex("01 00000000 ffffffff 9015 05 6162"))),
    "truncated",
  );
  assertEquals(
    code(() => decodeClientReferral(hex("03 00000000 06000000 9015 03612e62 8120"))),
    "too_long", // data length 4097
  );
  assertEquals(
    code(() => decodeClientReferral(hex("03 00000000 06000000 9015 03612e62 050102"))),
    "truncated",
  );
});

Deno.test("encodeClientReferral output reads back with the client codec", () => {
  const cases = [
    { host: "play.example.com", port: 5520, data: null },
    { host: "10.0.0.7", port: 1, data: new Uint8Array(0) },
    { host: "höst.example", port: 65535, data: new Uint8Array(4096).fill(0xab) },
  ];
  for (const c of cases) {
    const payload = encodeClientReferral(c.host, c.port, c.data);
    assertEquals(parseClientReferral(payload), c);
    assertEquals(decodeClientReferral(payload), c);
  }
});
