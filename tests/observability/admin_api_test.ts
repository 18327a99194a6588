/** The bearer check of `/api/v1/*`. */
import assert from "node:assert/strict";
import { bearerMatches } from "../../src/observability/mod.ts";

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
