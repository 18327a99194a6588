import { assertEquals } from "../support/assert.ts";
import { DisconnectTexts } from "../../src/server/messages.ts";

const base = {
  no_route: "No route for ${sni}.",
  no_backends: "Full.",
  routing_error: "Error: ${error}",
  discovery_error: "Looking.",
};
const texts = new DisconnectTexts({
  disconnect: base,
  locales: new Map([
    ["de", { no_route: "Keine Route." }],
    ["pt-br", { no_backends: "Cheio." }],
  ]),
});
const vars = { sni: "play.example.com", error: "boom" };

Deno.test("base texts expand ${sni} and ${error}", () => {
  assertEquals(texts.text("no_route", "", vars), "No route for play.example.com.");
  assertEquals(texts.text("routing_error", "en-US", vars), "Error: boom");
});

Deno.test("an exact locale wins, case-insensitively and with _ as -", () => {
  assertEquals(texts.text("no_backends", "pt_BR", vars), "Cheio.");
  assertEquals(texts.text("no_backends", "PT-br", vars), "Cheio.");
});

Deno.test("the base language is used when the exact locale is absent", () => {
  assertEquals(texts.text("no_route", "de-AT", vars), "Keine Route.");
  assertEquals(texts.text("no_route", "de_DE", vars), "Keine Route.");
});

Deno.test("a locale overrides only the fields it sets", () => {
  assertEquals(texts.text("no_backends", "de", vars), "Full.");
  assertEquals(texts.text("no_route", "pt-BR", vars), "No route for play.example.com.");
});

Deno.test("unknown languages fall back to the base texts", () => {
  assertEquals(texts.text("discovery_error", "ja-JP", vars), "Looking.");
});
