/** The bearer check of `/api/v1/*`. */
import assert from "node:assert/strict";
import { type AdminApi, bearerMatches, handleApi } from "../../src/observability/admin_api.ts";

const token = new TextEncoder().encode("abc123");

Deno.test("bearerMatches: exactly `Bearer <token>`, scheme case-insensitive", () => {
  assert.equal(bearerMatches("Bearer abc123", token), true);
  assert.equal(bearerMatches("bearer abc123", token), true);
  assert.equal(bearerMatches("  BEARER   abc123 ", token), true);
  for (
    const header of [
      null,
      "",
      "Bearer",
      "Bearer ",
      "abc123",
      "Basic abc123",
      "Bearer abc12",
      "Bearer abc1234",
      "Bearer abc124",
      "Bearer ABC123",
      "Bearerabc123",
    ]
  ) {
    assert.equal(bearerMatches(header, token), false, String(header));
  }
});

Deno.test("bearerMatches: an empty token matches nothing", () => {
  assert.equal(bearerMatches("Bearer ", new Uint8Array()), false);
  assert.equal(bearerMatches("Bearer x", new Uint8Array()), false);
});

Deno.test("bearerMatches: the header's bytes are compared, so a non-ASCII token matches", () => {
  // HTTP hands header values over as bytes, one character each (`curl -H` sends the token's
  // UTF-8 as it is): "Bearer tök…" arrives as "Bearer tÃ¶k…".
  const utf8 = new TextEncoder().encode("tök3n-ünïcode-0123456789");
  const asSent = String.fromCharCode(...utf8);
  assert.equal(bearerMatches(`Bearer ${asSent}`, utf8), true);
  assert.equal(bearerMatches(`Bearer ${asSent.slice(0, -1)}`, utf8), false);
});

Deno.test("handleApi: a method named like an Object property is 405, never a handler", async () => {
  const token = new TextEncoder().encode("t0ken-t0ken-t0ken");
  const api: AdminApi = {
    token: () => token,
    endpoints: new Map([["status", { GET: () => ({ ok: true }) }]]),
  };
  // HTTP methods are any token: these reached Object.prototype's functions (200 or 500).
  for (const method of ["constructor", "toString", "valueOf", "hasOwnProperty", "__proto__"]) {
    const request = new Request("http://127.0.0.1/api/v1/status", {
      method,
      headers: { authorization: "Bearer t0ken-t0ken-t0ken" },
    });
    const response = await handleApi(request, "/api/v1/status", api);
    assert.equal(response.status, 405, method);
    assert.equal(response.headers.get("allow"), "GET", method);
    assert.deepEqual(await response.json(), { error: "method not allowed; use GET" });
  }
});
