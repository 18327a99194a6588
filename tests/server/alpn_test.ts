import { assertEquals } from "../support/assert.ts";
import { expandAlpn } from "../../src/server/mod.ts";

Deno.test("hytale/* expands to hytale/16 … hytale/1 in descending order", () => {
  const out = expandAlpn(["hytale/*"]);
  assertEquals(out.length, 16);
  assertEquals(out[0], "hytale/16");
  assertEquals(out[15], "hytale/1");
});

Deno.test("explicit ALPN values are kept in order and de-duplicated around the wildcard", () => {
  assertEquals(expandAlpn(["hytale/2"]), ["hytale/2"]);
  assertEquals(expandAlpn(["custom", "hytale/*", "hytale/3"]).slice(0, 3), [
    "custom",
    "hytale/16",
    "hytale/15",
  ]);
  assertEquals(expandAlpn(["custom", "hytale/*", "hytale/3"]).length, 17);
});
