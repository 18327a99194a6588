import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/mod.ts";
import { lines } from "./expect_errors.ts";

const ENGLISH = {
  no_route: "The server is currently unavailable.",
  no_backends: "The server is full or restarting. Please try again in a moment.",
  routing_error: "The server is currently unreachable. Please try again later.",
  discovery_error: "The server is looking for an available instance. Please try again in a moment.",
};

function messages(text: string) {
  return parseConfig(text, "c.yaml").messages;
}

Deno.test("without a messages section: English defaults and the six built-in locales", () => {
  const m = messages("");
  assert.deepEqual(m.disconnect, ENGLISH);
  assert.deepEqual([...m.locales.keys()], ["de", "fr", "es", "pt", "pt-br", "it"]);
  assert.equal(
    m.locales.get("fr")?.no_backends,
    "Le serveur est plein ou red\u00e9marre. R\u00e9essaie dans un instant.",
  );
  assert.equal(
    m.locales.get("pt-br")?.no_route,
    "O servidor est\u00e1 indispon\u00edvel no momento.",
  );
});

Deno.test("base texts: set ones replace the default, absent and null keep it", () => {
  const m = messages(lines(
    "messages:",
    "  disconnect:",
    "    no_route: 'No server for ${sni}.'",
    "    no_backends: ~",
  ));
  assert.deepEqual(m.disconnect, { ...ENGLISH, no_route: "No server for ${sni}." });
  assert.equal(m.locales.size, 6, "configuring base texts keeps the built-in locales");
});

Deno.test("an explicitly blank base text overrides the default, and players get Go's fallback", () => {
  const m = messages(
    lines("messages:", "  disconnect:", "    no_route: ''", "    routing_error: '  '"),
  );
  assert.equal(m.disconnect.no_route, "no route");
  assert.equal(m.disconnect.routing_error, "routing error");
  assert.equal(m.disconnect.no_backends, ENGLISH.no_backends);
});

Deno.test("configured locales replace the built-in set; keys are normalised", () => {
  const m = messages(lines(
    "messages:",
    "  disconnect_locales:",
    "    de_DE:",
    "      no_route: 'Kein Server.'",
    "      no_backends: ''",
    "      routing_error: '   '",
    "    NL:",
    "      discovery_error: 'Even geduld.'",
    "    fr: ~",
  ));
  assert.deepEqual([...m.locales.entries()], [
    ["de-de", { no_route: "Kein Server." }],
    ["nl", { discovery_error: "Even geduld." }],
    ["fr", {}],
  ]);
  assert.deepEqual(m.disconnect, ENGLISH);
});

Deno.test("an empty disconnect_locales means no translations; null means the built-in ones", () => {
  assert.equal(messages("messages: { disconnect_locales: {} }\n").locales.size, 0);
  assert.equal(messages("messages: { disconnect_locales: ~ }\n").locales.size, 6);
});
