/** `/api/v1/status` shows deno.json's version. */
import assert from "node:assert/strict";
import { VERSION } from "../../src/cli/version.ts";
import denoJson from "../../deno.json" with { type: "json" };

Deno.test("VERSION is deno.json's version", () => {
  assert.equal(VERSION, denoJson.version);
});
