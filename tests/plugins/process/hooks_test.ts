import assert from "node:assert/strict";
import { encode } from "@msgpack/msgpack";
import {
  decodeConnectResult,
  encodeConnect,
  encodeDisconnect,
} from "../../../src/plugins/process/hooks.ts";
import type { ChainState } from "../../../src/plugins/codec.ts";
import { type ConnectCall, PluginError } from "../../../src/plugins/transport.ts";
import { SAMPLE_EVENT } from "../fake_transport.ts";

const hex = (s: string) => Uint8Array.fromHex(s.replace(/\s+/g, ""));

const NOTHING: ChainState = {
  strategy: "",
  candidates: [],
  selectedIndex: -1,
  backend: null,
  referralContent: new Uint8Array(0),
};

const BARE: ConnectCall = {
  sni: "s",
  client: "1.2.3.4:5",
  route: null,
  event: { ...SAMPLE_EVENT, username: "u", uuid: "", language: "" },
  state: NOTHING,
};

Deno.test("encodeConnect: zero values and the default pool's route are left out", () => {
  assert.deepEqual(
    encodeConnect("g", BARE),
    hex(
      "88" + // map of 8
        "a172 a167" + // r: "g"
        "a164 a173" + // d: "s"
        "a161 a9 312e322e332e343a35" + // a: "1.2.3.4:5"
        "a175 a175" + // u: "u"
        "a26964 a0" + // id: ""
        "a16c a0" + // l: ""
        "a163 90" + // c: []
        "a173 ff", // s: -1
    ),
  );
});

Deno.test("encodeConnect: every key, with an exact route, a backend and referral content", () => {
  const backend = { host: "b", port: 5520, weight: 2, meta: null };
  const call: ConnectCall = {
    ...BARE,
    route: { hostname: "p.x", glob: false },
    event: { ...BARE.event, clientType: 1, protocolHash: "h", identityTokenPresent: true },
    state: {
      strategy: "round_robin",
      candidates: [backend],
      selectedIndex: 0,
      backend,
      referralContent: hex("09"),
    },
  };
  // {h: "b", p: 5520 (uint16 cd 1590), w: 2, m: {}}
  const b = "84 a168 a162 a170 cd1590 a177 02 a16d 80";
  assert.deepEqual(
    encodeConnect("g", call),
    hex(
      "8e" + // map of 14
        "a172 a167 a164 a173 a161 a9 312e322e332e343a35" +
        "a26d64 a3 702e78" + // md: "p.x"
        "a175 a175 a26964 a0 a16c a0" +
        "a26374 01" + // ct: 1
        "a27068 a168" + // ph: "h"
        "a26974 c3" + // it: true
        "a163 91" + b + // c: [b]
        "a173 00" + // s: 0
        "a162" + b + // b
        "a27263 c40109", // rc: bin [09]
    ),
  );
});

Deno.test("encodeConnect: a glob route is mg, never md", () => {
  const data = encodeConnect("g", { ...BARE, route: { hostname: "*.x", glob: true } });
  // mg: "*.x" follows a, and there is no md key.
  assert.ok(hexOf(data).includes("a26d67a32a2e78"));
  assert.ok(!hexOf(data).includes("a26d64"));
});

Deno.test("encodeDisconnect: r tg a rx tx ms o u id", () => {
  const data = encodeDisconnect("g", {
    client: "c",
    target: "t:1",
    outcome: "referral",
    rxBytes: 300,
    txBytes: 7,
    durationMs: 12.6,
    username: "u",
    uuid: "i",
  });
  assert.deepEqual(
    data,
    hex(
      "89 a172 a167 a27467 a3 743a31 a161 a163 a27278 cd012c a27478 07 a26d73 0d" +
        "a16f a8 726566657272616c a175 a175 a26964 a169",
    ),
  );
});

function hexOf(b: Uint8Array): string {
  return b.toHex();
}

Deno.test("decodeConnectResult: ok, deny with a reason, and every optional key", () => {
  assert.deepEqual(decodeConnectResult(hex("81 a26f6b c3"), "g"), {
    deny: false,
    denyReason: "",
    candidates: null,
    selectedIndex: null,
    backend: null,
    referralContent: null,
  });
  // {ok: false, rs: "no"}
  const deny = decodeConnectResult(hex("82 a26f6b c2 a27273 a26e6f"), "g");
  assert.equal(deny.deny, true);
  assert.equal(deny.denyReason, "no");
  const full = decodeConnectResult(
    encode({
      ok: true,
      c: [{ h: "a", p: 1 }, { h: "b", p: 2, w: 5, m: { k: "v" } }],
      s: 1,
      b: { h: "c", p: 3 },
      rc: new Uint8Array([4]),
      extra: "ignored",
      rs: null,
    }),
    "g",
  );
  assert.deepEqual(full, {
    deny: false,
    denyReason: "",
    candidates: [
      { host: "a", port: 1, weight: 0, meta: null },
      { host: "b", port: 2, weight: 5, meta: { k: "v" } },
    ],
    selectedIndex: 1,
    backend: { host: "c", port: 3, weight: 0, meta: null },
    referralContent: new Uint8Array([4]),
  });
});

Deno.test("decodeConnectResult: anything but the documented shape is bad_response", () => {
  const cases: [string, Uint8Array, RegExp][] = [
    ["not msgpack", hex("c1"), /not msgpack/],
    ["truncated", hex("82 a26f6b"), /not msgpack/],
    ["trailing bytes", hex("81 a26f6b c3 00"), /not msgpack/],
    ["not a map", encode([true]), /not a msgpack map/],
    ["missing ok", encode({ rs: "x" }), /lacks the boolean "ok"/],
    ["ok not bool", encode({ ok: 1 }), /lacks the boolean "ok"/],
    ["rs not str", encode({ ok: false, rs: 3 }), /"rs": expected a string/],
    ["s not int", encode({ ok: true, s: "one" }), /"s": expected an integer/],
    ["s fraction", encode({ ok: true, s: 1.5 }), /"s": expected an integer/],
    ["rc as str", encode({ ok: true, rc: "abc" }), /"rc": expected bin/],
    ["c not array", encode({ ok: true, c: {} }), /"c": expected an array/],
    ["port too big", encode({ ok: true, b: { h: "a", p: 70000 } }), /"b": backend p/],
    ["host not str", encode({ ok: true, c: [{ h: 1, p: 1 }] }), /"c": \[0\]: backend h/],
    ["meta not strs", encode({ ok: true, b: { h: "a", p: 1, m: { k: 1 } } }), /backend m/],
    ["weight fraction", encode({ ok: true, b: { h: "a", p: 1, w: 0.5 } }), /backend w/],
  ];
  for (const [what, bytes, message] of cases) {
    const err = (() => {
      try {
        decodeConnectResult(bytes, "guard");
      } catch (e) {
        return e;
      }
      return null;
    })();
    assert.ok(err instanceof PluginError, `${what}: throws a PluginError`);
    assert.equal(err.kind, "bad_response", what);
    assert.match(err.message, /^plugin "guard": /, what);
    assert.match(err.message, message, what);
  }
  // A refused answer leaves nothing behind for the next one.
  assert.equal(decodeConnectResult(hex("81 a26f6b c3"), "guard").deny, false);
});
