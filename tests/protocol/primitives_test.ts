// The bounds-checked reader and writer under the packet codecs (internal modules, tested
// directly because every packet relies on their edge cases).
import { assertEquals, assertThrows } from "../support/assert.ts";
import { ByteReader } from "../../src/protocol/byte_reader.ts";
import { ByteWriter } from "../../src/protocol/byte_writer.ts";
import { ProtocolError } from "../../src/protocol/mod.ts";
import { hex, toHex } from "../support/hytale_client_codec.ts";

const reader = (h: string) => new ByteReader(hex(h));
const code = (fn: () => unknown) => assertThrows(fn, ProtocolError).code;

/** Hand-encoded LEB128 at each group boundary. */
const VARINTS: readonly [number, string][] = [
  [0, "00"],
  [1, "01"],
  [127, "7f"],
  [128, "8001"],
  [300, "ac02"],
  [16_383, "ff7f"],
  [16_384, "808001"],
  [2_097_151, "ffff7f"],
  [2_097_152, "80808001"],
  [268_435_455, "ffffff7f"],
  [268_435_456, "8080808001"],
  [2_147_483_647, "ffffffff07"],
];

Deno.test("VarInt: reads hand-encoded values and their sizes", () => {
  for (const [value, h] of VARINTS) {
    assertEquals(reader(h).varInt(0, "v"), { value, size: h.length / 2 }, h);
  }
});

Deno.test("VarInt: writes the same bytes", () => {
  for (const [value, h] of VARINTS) {
    const w = new ByteWriter();
    w.varInt(value, "v");
    assertEquals(toHex(w.finish()), h, String(value));
  }
});

Deno.test("VarInt: a 6th continuation byte is invalid", () => {
  const err = assertThrows(
    () => reader("ffffffffff01").varInt(0, "Connect (0) v2 username"),
    ProtocolError,
  );
  assertEquals(err.code, "bad_varint");
  assertEquals(err.message.includes("Connect (0) v2 username"), true);
  assertEquals(code(() => reader("8080808080").varInt(0, "v")), "bad_varint");
});

Deno.test("VarInt: 5-byte values beyond i32 are invalid; a cut-off VarInt is truncated", () => {
  assertEquals(code(() => reader("8080808008").varInt(0, "v")), "bad_varint"); // 2^31
  assertEquals(code(() => reader("ffffffff0f").varInt(0, "v")), "bad_varint"); // 2^35 - 1
  assertEquals(code(() => reader("8080").varInt(0, "v")), "truncated");
  assertEquals(code(() => reader("").varInt(0, "v")), "truncated");
});

Deno.test("VarInt writer: negative, fractional and > i32 values are refused", () => {
  const w = new ByteWriter();
  assertEquals(code(() => w.varInt(-1, "v")), "bad_varint");
  assertEquals(code(() => w.varInt(1.5, "v")), "bad_varint");
  assertEquals(code(() => w.varInt(2 ** 31, "v")), "bad_varint");
  assertEquals(w.length, 0);
});

Deno.test("VarString: max is inclusive; over max is too_long; short data is truncated", () => {
  assertEquals(reader("0568656c6c6f").varString(0, 5, "s"), { value: "hello", size: 6 });
  const err = assertThrows(
    () => reader("0568656c6c6f").varString(0, 4, "Connect (0) v2 language"),
    ProtocolError,
  );
  assertEquals(err.code, "too_long");
  assertEquals(err.message, "Connect (0) v2 language: length 5 exceeds max 4");
  assertEquals(code(() => reader("056869").varString(0, 16, "s")), "truncated");
});

Deno.test("VarString: UTF-8 is decoded; invalid UTF-8 is kept as U+FFFD, not rejected", () => {
  assertEquals(reader("02c3bc").varString(0, 16, "s").value, "ü");
  assertEquals(reader("02ff41").varString(0, 16, "s").value, "\uFFFDA");
});

Deno.test("VarString writer: counts UTF-8 bytes against the max", () => {
  const w = new ByteWriter();
  w.varString("üü", 4, "s");
  assertEquals(toHex(w.finish()), "04c3bcc3bc");
  assertEquals(code(() => new ByteWriter().varString("üüü", 5, "s")), "too_long");
});

Deno.test("fixed ASCII ends at the first NUL or at n", () => {
  assertEquals(reader("616200636400").fixedAscii(0, 6, "f"), "ab");
  assertEquals(reader("61626364").fixedAscii(0, 4, "f"), "abcd");
  assertEquals(reader("00616263").fixedAscii(0, 4, "f"), "");
  assertEquals(code(() => reader("6162").fixedAscii(0, 3, "f")), "truncated");
  const w = new ByteWriter();
  w.fixedAscii("ab", 4, "f");
  assertEquals(toHex(w.finish()), "61620000");
  assertEquals(code(() => new ByteWriter().fixedAscii("a\0", 4, "f")), "bad_string");
});

Deno.test("UUID: two big-endian u64, rendered lower-case 8-4-4-4-12", () => {
  assertEquals(
    reader("000102030405060708090a0b0c0d0e0f").uuid(0, "u"),
    "00010203-0405-0607-0809-0a0b0c0d0e0f",
  );
  assertEquals(
    reader("FFEEDDCCBBAA99887766554433221100").uuid(0, "u"),
    "ffeeddcc-bbaa-9988-7766-554433221100",
  );
  const w = new ByteWriter();
  w.uuid("FFEEDDCC-BBAA-9988-7766-554433221100", "u");
  assertEquals(toHex(w.finish()), "ffeeddccbbaa99887766554433221100");
  assertEquals(
    code(() => new ByteWriter().uuid("ffeeddccbbaa99887766554433221100", "u")),
    "bad_string",
  );
  assertEquals(code(() => reader("00".repeat(15)).uuid(0, "u")), "truncated");
});

Deno.test("HostAddress: u16le port then VarString host (≤ 256 bytes)", () => {
  assertEquals(reader("9015" + "03612e62").hostAddress(0, "h"), {
    value: { host: "a.b", port: 5520 },
    size: 6,
  });
  assertEquals(
    code(() => reader("0100" + "8102" + "61".repeat(257)).hostAddress(0, "h")),
    "too_long",
  );
  assertEquals(
    reader("0100" + "8002" + "61".repeat(256)).hostAddress(0, "h").value.host.length,
    256,
  );
});

Deno.test("little-endian integers, signed where the wire is signed", () => {
  const r = reader("feffffff" + "3412" + "78563412");
  assertEquals(r.i32le(0, "i"), -2);
  assertEquals(r.u32le(0, "u"), 0xfffffffe);
  assertEquals(r.u16le(4, "u"), 0x1234);
  assertEquals(r.u32le(6, "u"), 0x12345678);
  const w = new ByteWriter();
  w.i32le(-1, "i");
  w.u16le(5520, "p");
  w.u32le(0x12345678, "u");
  assertEquals(toHex(w.finish()), "ffffffff" + "9015" + "78563412");
});

Deno.test("reads outside the payload are truncated, never out of bounds", () => {
  const r = reader("0102");
  assertEquals(code(() => r.u8(2, "x")), "truncated");
  assertEquals(code(() => r.u8(-1, "x")), "truncated");
  assertEquals(code(() => r.u16le(1, "x")), "truncated");
  assertEquals(code(() => r.i32le(0x7fffffff, "x")), "truncated");
  assertEquals(code(() => r.bytes(1, 2, "x")), "truncated");
  assertEquals(code(() => r.u8(0.5, "x")), "truncated");
});

Deno.test("writer: values out of range for their width are bad_value", () => {
  const w = new ByteWriter();
  assertEquals(code(() => w.u8(256, "x")), "bad_value");
  assertEquals(code(() => w.u16le(-1, "x")), "bad_value");
  assertEquals(code(() => w.i32le(2 ** 31, "x")), "bad_value");
  assertEquals(code(() => w.u32le(2 ** 32, "x")), "bad_value");
  assertEquals(code(() => w.u8(Number.NaN, "x")), "bad_value");
});

Deno.test("writer grows past its initial capacity", () => {
  const w = new ByteWriter(1);
  const data = new Uint8Array(1000).map((_, i) => i % 251);
  w.u8(9, "x");
  w.bytes(data);
  const out = w.finish();
  assertEquals(out.length, 1001);
  assertEquals(out.subarray(1), data);
});
