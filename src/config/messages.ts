import { BUILTIN_LOCALES, DEFAULT_DISCONNECT } from "./builtin_locales.ts";
import { childPath, type Obj, type Reader } from "./fields.ts";
import { localeKey } from "./locale.ts";
import type { Node } from "./nodes.ts";
import type { DisconnectKind, DisconnectMessages, MessagesConfig } from "./types.ts";

const KINDS: readonly DisconnectKind[] = [
  "no_route",
  "no_backends",
  "routing_error",
  "discovery_error",
];

/**
 * Hyrouter's server sends these when the selected text is blank. An explicitly empty base text
 * (`no_route: ""`) replaces the English default (yaml.v3 decodes into a pre-filled struct), so
 * that player then gets this terse text; resolving it here keeps the server free of the rule.
 */
const BLANK_FALLBACK: DisconnectMessages = {
  no_route: "no route",
  no_backends: "no backends",
  routing_error: "routing error",
  discovery_error: "discovery error",
};

/**
 * Reads the `messages` section. Base texts: absent or null keep the default, blank takes Go's
 * blank fallback. `disconnect_locales`: absent or null gives the built-in translations; present
 * (even `{}`) gives exactly the configured locales, keys lower-cased with `_` as `-`, each
 * keeping only its non-blank texts.
 */
export function readMessages(r: Reader, node: Node | undefined, path: string): MessagesConfig {
  const obj = r.object(node, path, ["disconnect", "disconnect_locales"]);
  const disconnect = readBase(r, obj?.get("disconnect"), childPath(path, "disconnect"));
  const localesNode = obj?.get("disconnect_locales");
  const locales = localesNode === undefined || localesNode.kind === "null"
    ? new Map(BUILTIN_LOCALES)
    : readLocales(r, localesNode, childPath(path, "disconnect_locales"));
  return { disconnect, locales };
}

function readBase(r: Reader, node: Node | undefined, path: string): DisconnectMessages {
  const obj = r.object(node, path, KINDS);
  const texts = { ...DEFAULT_DISCONNECT };
  for (const kind of KINDS) {
    const text = obj && r.string(obj.get(kind), obj.at(kind));
    if (text !== undefined) texts[kind] = text.trim() === "" ? BLANK_FALLBACK[kind] : text;
  }
  return texts;
}

function readLocales(
  r: Reader,
  node: Node,
  path: string,
): ReadonlyMap<string, Partial<DisconnectMessages>> {
  const locales = new Map<string, Partial<DisconnectMessages>>();
  for (const entry of r.entries(node, path) ?? []) {
    const entryPath = childPath(path, entry.key);
    const key = localeKey(entry.key);
    if (key === "") {
      r.report("invalid", entryPath, entry.keyPosition, "locale key must not be empty");
    } else if (locales.has(key)) {
      r.report("invalid", entryPath, entry.keyPosition, `locale "${key}" is configured twice`);
    } else {
      locales.set(key, readOverrides(r, r.object(entry.value, entryPath, KINDS)));
    }
  }
  return locales;
}

function readOverrides(r: Reader, obj: Obj | undefined): Partial<DisconnectMessages> {
  const texts: Partial<Record<DisconnectKind, string>> = {};
  for (const kind of KINDS) {
    const text = obj && r.string(obj.get(kind), obj.at(kind));
    if (text !== undefined && text.trim() !== "") texts[kind] = text;
  }
  return texts;
}
