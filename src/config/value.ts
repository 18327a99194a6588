import { PLAIN_BOOLS } from "./fields.ts";
import type { Format, Node } from "./nodes.ts";

const YAML_NULL = /^(?:~|null|Null|NULL)$/;
const YAML_INT = /^[-+]?(?:0|[1-9][0-9]*)$/;
const YAML_FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/;

/**
 * A document node as a plain JSON value (for free-form settings such as `wasm.config`): YAML
 * plain scalars resolve by the YAML 1.2 core schema (null, booleans, numbers), everything else
 * is a string.
 */
export function nodeValue(node: Node, format: Format): unknown {
  switch (node.kind) {
    case "null":
      return null;
    case "seq":
      return node.items.map((item) => nodeValue(item, format));
    case "map":
      return Object.fromEntries(node.entries.map((e) => [e.key, nodeValue(e.value, format)]));
    case "scalar":
      return node.quoted ? node.text : plainScalar(node.text, format);
  }
}

function plainScalar(text: string, format: Format): unknown {
  if (format === "json") return text === "true" ? true : text === "false" ? false : Number(text);
  if (YAML_NULL.test(text)) return null;
  if (text in PLAIN_BOOLS) return PLAIN_BOOLS[text];
  if (YAML_INT.test(text) || YAML_FLOAT.test(text)) return Number(text);
  return text;
}
