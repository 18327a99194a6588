/**
 * Hyrouter's documented routing examples, loaded by the config loader and routed by the
 * compiled router: the decisions Hyrouter's docs describe.
 */
import { assertEquals } from "../support/assert.ts";
import { parseConfig } from "../../src/config/mod.ts";
import { compileRouter, type RouteRequest } from "../../src/routing/mod.ts";
import { settled } from "./fixtures.ts";

const text = await Deno.readTextFile("tests/fixtures/config/docs_routing.yaml");
const WHITELISTED = "3f1c0a52-1111-2222-3333-444455556666";

function router(random = () => 0.5) {
  return compileRouter(parseConfig(text, "docs_routing.yaml").routing, { random });
}

function host(r: ReturnType<typeof router>, req: Partial<RouteRequest> & { sni: string | null }) {
  const result = settled(r.decide({ uuid: "", username: "", ...req }));
  return result.ok ? `${result.decision.route} ${result.decision.backend.host}` : result.error.code;
}

Deno.test("Hyrouter's docs/routing.md: exact route first, then the wildcard, then the default pool", () => {
  const r = router();
  assertEquals(host(r, { sni: "alpha.example.com" }), "routes[0] alpha-backend.internal");
  assertEquals(host(r, { sni: "ALPHA.example.com." }), "routes[0] alpha-backend.internal");
  assertEquals(host(r, { sni: "beta.example.com" }).split(" ")[0], "routes[1]");
  assertEquals(host(r, { sni: "a.b.example.com" }).split(" ")[0], "routes[1]");
  assertEquals(host(r, { sni: "example.net" }).split(" ")[0], "routes[1]");
  assertEquals(host(r, { sni: "example.com" }), "default play.hyvane.com");
  assertEquals(host(r, { sni: null }), "default play.hyvane.com");
});

Deno.test("Hyrouter's docs/routing.md: weighted 1:2 picks b twice as often as a", () => {
  let seed = 1;
  const r = router(() => {
    seed = (seed * 16807) % 2147483647;
    return (seed - 1) / 2147483646;
  });
  const counts = new Map<string, number>();
  for (let i = 0; i < 3000; i++) {
    const h = host(r, { sni: "x.example.com" }).split(" ")[1]!;
    counts.set(h, (counts.get(h) ?? 0) + 1);
  }
  const a = counts.get("wildcard-backend-a.internal") ?? 0;
  const b = counts.get("wildcard-backend-b.internal") ?? 0;
  assertEquals(a + b, 3000);
  assertEquals(Math.abs(b / a - 2) < 0.25, true, `ratio ${b / a}`);
});

Deno.test("first match wins: the whitelist route is shadowed by *.example.com before it", () => {
  const r = router();
  const decided = host(r, { sni: "whitelisted.example.com", uuid: WHITELISTED });
  assertEquals(decided.split(" ")[0], "routes[1]");
});
