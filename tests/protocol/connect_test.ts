// decodeConnect against payloads built by the independent client codec in tests/support.
import { assert, assertEquals } from "../support/assert.ts";
import { type ConnectEvent, decodeConnect, encodeConnect } from "../../src/protocol/mod.ts";
import {
  buildConnectV1,
  buildConnectV2,
  type ConnectV1Input,
  type ConnectV2Input,
  hex,
  toHex,
} from "../support/hytale_client_codec.ts";

const UUID = "d3e6ef90-e113-49a7-a845-1c11f24fe166";
const HASH = "0123456789abcdef".repeat(4);
const TOKEN = "eyJ-SECRET-IDENTITY-TOKEN";

const V2_MINIMAL: ConnectV2Input = {
  protocolCrc: -123456,
  protocolBuildNumber: 42,
  clientVersion: "2026.01.14-abc",
  clientType: 1,
  uuid: UUID,
  username: "Krymo",
  language: "de-DE",
};

const V2_FULL: ConnectV2Input = {
  ...V2_MINIMAL,
  identityToken: TOKEN,
  referralData: hex("0102030405"),
  referralSource: { host: "lobby.example.com", port: 5521 },
};

const V1_FULL: ConnectV1Input = {
  protocolHash: HASH,
  clientType: 2,
  uuid: UUID,
  language: "en_US",
  identityToken: TOKEN,
  username: "Oldie",
  referralData: hex("aa"),
  referralSource: { host: "10.0.0.1", port: 5520 },
};

function decoded(payload: Uint8Array): ConnectEvent {
  const event = decodeConnect(payload);
  assert(event !== null, `expected a ConnectEvent for ${toHex(payload)}`);
  return event;
}

Deno.test("v2 without optional fields: every field", () => {
  assertEquals(decoded(buildConnectV2(V2_MINIMAL)), {
    layout: "v2",
    protocolHash: "2026.01.14-abc",
    protocolCrc: -123456,
    protocolBuildNumber: 42,
    clientVersion: "2026.01.14-abc",
    clientType: 1,
    uuid: UUID,
    username: "Krymo",
    language: "de-DE",
    identityTokenPresent: false,
    referralDataLength: 0,
    referralSource: null,
  });
});

Deno.test("v2 with every optional field: every field", () => {
  assertEquals(decoded(buildConnectV2(V2_FULL)), {
    layout: "v2",
    protocolHash: "2026.01.14-abc",
    protocolCrc: -123456,
    protocolBuildNumber: 42,
    clientVersion: "2026.01.14-abc",
    clientType: 1,
    uuid: UUID,
    username: "Krymo",
    language: "de-DE",
    identityTokenPresent: true,
    referralDataLength: 5,
    referralSource: { host: "lobby.example.com", port: 5521 },
  });
});

Deno.test("v2 follows the offsets, whatever order the fields are in", () => {
  const reversed = buildConnectV2({
    ...V2_FULL,
    order: ["referralSource", "referralData", "language", "identityToken", "username"],
  });
  assertEquals(decoded(reversed), decoded(buildConnectV2(V2_FULL)));
});

Deno.test("v2: field limits are inclusive (16-byte UTF-8 username, 8192-byte token, …)", () => {
  const event = decoded(buildConnectV2({
    ...V2_MINIMAL,
    clientVersion: "v".repeat(20),
    username: "ääääääää", // 8 characters, 16 bytes
    language: "l".repeat(16),
    identityToken: "t".repeat(8192),
    referralData: new Uint8Array(4096),
    referralSource: { host: "h".repeat(256), port: 65535 },
  }));
  assertEquals(event.layout, "v2");
  assertEquals(event.clientVersion, "v".repeat(20));
  assertEquals(event.username, "ääääääää");
  assertEquals(event.language, "l".repeat(16));
  assertEquals(event.identityTokenPresent, true);
  assertEquals(event.referralDataLength, 4096);
  assertEquals(event.referralSource, { host: "h".repeat(256), port: 65535 });
});

Deno.test("v2: a malformed optional field is reported absent, the Connect still decodes", () => {
  const event = decoded(buildConnectV2({
    ...V2_MINIMAL,
    identityToken: "t".repeat(8193),
    referralData: new Uint8Array(4097),
    referralSource: { host: "h".repeat(257), port: 1 },
  }));
  assertEquals(event.layout, "v2");
  assertEquals(event.username, "Krymo");
  assertEquals(event.identityTokenPresent, false);
  assertEquals(event.referralDataLength, 0);
  assertEquals(event.referralSource, null);
});

Deno.test("v2: a field whose null bit is clear is absent even with a valid offset", () => {
  const payload = buildConnectV2(V2_FULL);
  payload[0] = 0;
  const event = decoded(payload);
  assertEquals(event.identityTokenPresent, false);
  assertEquals(event.referralDataLength, 0);
  assertEquals(event.referralSource, null);
});

Deno.test("v2: a set null bit with offset -1 or an offset past the end is absent", () => {
  const payload = buildConnectV2(V2_FULL);
  new DataView(payload.buffer).setInt32(50, -1, true); // identity_token slot
  new DataView(payload.buffer).setInt32(58, 1_000_000, true); // referral_data slot
  new DataView(payload.buffer).setInt32(62, 0x7fffffff, true); // referral_source slot
  const event = decoded(payload);
  assertEquals(event.layout, "v2");
  assertEquals(event.identityTokenPresent, false);
  assertEquals(event.referralDataLength, 0);
  assertEquals(event.referralSource, null);
});

Deno.test("v2 fails without username or language, or with either over 16 bytes", () => {
  // All of these are under 102 bytes, so v1 cannot take them either.
  assertEquals(decodeConnect(buildConnectV2({ ...V2_MINIMAL, username: null })), null);
  assertEquals(decodeConnect(buildConnectV2({ ...V2_MINIMAL, language: null })), null);
  assertEquals(decodeConnect(buildConnectV2({ ...V2_MINIMAL, username: "u".repeat(17) })), null);
  assertEquals(decodeConnect(buildConnectV2({ ...V2_MINIMAL, username: "ä".repeat(9) })), null);
  assertEquals(decodeConnect(buildConnectV2({ ...V2_MINIMAL, language: "l".repeat(17) })), null);
});

Deno.test("v2 failing on a payload of 102+ bytes falls back to v1", () => {
  const payload = buildConnectV2({ ...V2_FULL, username: "u".repeat(17) });
  assert(payload.length >= 102);
  assertEquals(decoded(payload).layout, "v1");
});

Deno.test("v1 without optional fields: every field", () => {
  assertEquals(decoded(buildConnectV1({ protocolHash: HASH, clientType: 7, uuid: UUID })), {
    layout: "v1",
    protocolHash: HASH,
    protocolCrc: 0,
    protocolBuildNumber: 0,
    clientVersion: "",
    clientType: 7,
    uuid: UUID,
    username: "",
    language: "",
    identityTokenPresent: false,
    referralDataLength: 0,
    referralSource: null,
  });
});

Deno.test("v1 with every optional field, in slot order and reversed", () => {
  const expected: ConnectEvent = {
    layout: "v1",
    protocolHash: HASH,
    protocolCrc: 0,
    protocolBuildNumber: 0,
    clientVersion: "",
    clientType: 2,
    uuid: UUID,
    username: "Oldie",
    language: "en_US",
    identityTokenPresent: true,
    referralDataLength: 1,
    referralSource: { host: "10.0.0.1", port: 5520 },
  };
  assertEquals(decoded(buildConnectV1(V1_FULL)), expected);
  const order = [
    "referralSource",
    "referralData",
    "username",
    "identityToken",
    "language",
  ] as const;
  assertEquals(decoded(buildConnectV1({ ...V1_FULL, order })), expected);
});

Deno.test("v1: language up to 128 bytes; a bad optional field is skipped, not fatal", () => {
  assertEquals(
    decoded(buildConnectV1({ ...V1_FULL, language: "l".repeat(128) })).language,
    "l".repeat(128),
  );
  const event = decoded(buildConnectV1({
    ...V1_FULL,
    language: "l".repeat(129),
    username: "u".repeat(17),
    identityToken: "t".repeat(8193),
  }));
  assertEquals(event.layout, "v1");
  assertEquals(event.language, "");
  assertEquals(event.username, "");
  assertEquals(event.identityTokenPresent, false);
  assertEquals(event.referralDataLength, 1);
  assertEquals(event.referralSource, { host: "10.0.0.1", port: 5520 });
});

Deno.test("v1: username has no null bit; its offset alone decides", () => {
  const payload = buildConnectV1({ protocolHash: HASH, uuid: UUID, username: "NoBit" });
  assertEquals(payload[0], 0);
  assertEquals(decoded(payload).username, "NoBit");
});

Deno.test("v1: protocol_hash ends at the first NUL; upper-case hex is recognised", () => {
  assertEquals(
    decoded(buildConnectV1({ protocolHash: "ABCDEF01", uuid: UUID })).protocolHash,
    "ABCDEF01",
  );
});

Deno.test("layout order: hex-or-NUL bytes 1..64 select v1 even when v2 would also decode", () => {
  // An all-NUL hash puts zeros in the v2 username/language slots, and a UUID starting with 00
  // makes both read as empty strings at byte 66: a valid v2. The detection must pick v1.
  const payload = buildConnectV1({
    protocolHash: "",
    clientType: 5,
    uuid: "00112233-4455-6677-8899-aabbccddeeff",
  });
  const event = decoded(payload);
  assertEquals(event.layout, "v1");
  assertEquals(event.clientType, 5);
  assertEquals(event.uuid, "00112233-4455-6677-8899-aabbccddeeff");
});

Deno.test("layout order: a non-hex v1 hash is tried as v2 first, then decoded as v1", () => {
  const hash = "z".repeat(64);
  const event = decoded(buildConnectV1({ protocolHash: hash, uuid: UUID, username: "Zed" }));
  assertEquals(event.layout, "v1");
  assertEquals(event.protocolHash, hash);
  assertEquals(event.username, "Zed");
});

Deno.test("layout order: a v2 Connect of 102+ bytes stays v2", () => {
  const payload = buildConnectV2(V2_FULL);
  assert(payload.length >= 102);
  assertEquals(decoded(payload).layout, "v2");
});

Deno.test("undecodable payloads give null", () => {
  assertEquals(decodeConnect(new Uint8Array(0)), null);
  assertEquals(decodeConnect(new Uint8Array(65)), null);
  assertEquals(decodeConnect(new Uint8Array(101).fill(0xff)), null);
});

Deno.test("the identity token's value appears nowhere in the event", () => {
  for (const payload of [buildConnectV2(V2_FULL), buildConnectV1(V1_FULL)]) {
    const event = decoded(payload);
    assertEquals(event.identityTokenPresent, true);
    assert(!JSON.stringify(event).includes("SECRET"));
  }
});

Deno.test("a payload that is a view into a larger buffer decodes the same", () => {
  const payload = buildConnectV2(V2_FULL);
  const padded = new Uint8Array(payload.length + 10).fill(0xee);
  padded.set(payload, 7);
  assertEquals(decodeConnect(padded.subarray(7, 7 + payload.length)), decodeConnect(payload));
});

Deno.test("encodeConnect and the independent client codec produce the same bytes", () => {
  const minimal = { ...V2_MINIMAL, username: "Krymo", language: "de-DE" };
  const full = {
    ...minimal,
    identityToken: TOKEN,
    referralData: hex("0102030405"),
    referralSource: { host: "lobby.example.com", port: 5521 },
  };
  assertEquals(toHex(encodeConnect(minimal)), toHex(buildConnectV2(minimal)));
  assertEquals(toHex(encodeConnect(full)), toHex(buildConnectV2(full)));
});
