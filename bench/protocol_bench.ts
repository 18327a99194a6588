/**
 * Micro costs of the per-connection protocol work, run with
 * `deno bench bench/protocol_bench.ts`: decoding a client's Connect, sealing the referral
 * envelope, encoding the reply. The router pays each of these once per connection, so compare
 * them with the ~1 ms of CPU a QUIC handshake costs the server (bench/run.ts).
 *
 * The `hmac` group puts WebCrypto HMAC-SHA256 (what the sealer uses; async, one op round trip)
 * next to `node:crypto` HMAC-SHA256 (synchronous) on the same 9 bytes.
 *
 * @module
 */

import { createHmac } from "node:crypto";
import {
  createEnvelopeSealer,
  decodeConnect,
  encodeClientReferral,
  encodeConnect,
  encodeFrame,
  FrameDecoder,
  MAX_CONNECT_PAYLOAD,
  PacketId,
  parseHmacSecret,
} from "../src/protocol/mod.ts";

/** A v2 Connect as current clients send it: an identity token is present (a JWT-sized one). */
const CONNECT_V2 = encodeConnect({
  protocolCrc: 0x1234_5678,
  protocolBuildNumber: 42,
  clientVersion: "2026.01.15-abcdef",
  uuid: "7f3a9c2e-1b4d-4e8f-9a0b-1c2d3e4f5a6b",
  username: "PlayerOne",
  language: "en-US",
  identityToken: "e".repeat(900),
});
const CONNECT_FRAME = encodeFrame(PacketId.Connect, CONNECT_V2);
const SECRET = parseHmacSecret("bench-secret");
const EMPTY = new Uint8Array(0);
const CONTENT = new TextEncoder().encode('{"party":"7f3a9c2e","queue":"ranked"}');
const signed = createEnvelopeSealer(1, SECRET);
const unsigned = createEnvelopeSealer(1, null);
const ENVELOPE = signed.seal(EMPTY);
const hmacKey = await crypto.subtle.importKey(
  "raw",
  new Uint8Array(SECRET),
  { name: "HMAC", hash: "SHA-256" },
  false,
  ["sign"],
);
const HEADER = ENVELOPE.slice(0, 9);

Deno.bench("decodeConnect v2 (≈1 KiB, identity token present)", {
  group: "connect",
  baseline: true,
}, () => {
  if (decodeConnect(CONNECT_V2) === null) throw new Error("undecodable");
});

Deno.bench("FrameDecoder: push a whole Connect frame, take it", { group: "connect" }, () => {
  const decoder = new FrameDecoder(MAX_CONNECT_PAYLOAD);
  decoder.push(CONNECT_FRAME);
  if (decoder.next() === null) throw new Error("no frame");
});

Deno.bench(
  "seal empty content, signed (HMAC-SHA256)",
  { group: "envelope", baseline: true },
  () => {
    signed.seal(EMPTY);
  },
);

Deno.bench("seal 37-byte content, signed", { group: "envelope" }, () => {
  signed.seal(CONTENT);
});

Deno.bench("seal empty content, unsigned", { group: "envelope" }, () => {
  unsigned.seal(EMPTY);
});

Deno.bench("WebCrypto HMAC-SHA256 of 9 bytes", { group: "hmac", baseline: true }, async () => {
  await crypto.subtle.sign("HMAC", hmacKey, HEADER);
});

Deno.bench("node:crypto HMAC-SHA256 of 9 bytes", { group: "hmac" }, () => {
  createHmac("sha256", SECRET).update(HEADER).digest();
});

Deno.bench("encode ClientReferral frame (play.example.com:5520, 41-byte envelope)", {
  group: "reply",
}, () => {
  encodeFrame(PacketId.ClientReferral, encodeClientReferral("play.example.com", 5520, ENVELOPE));
});
