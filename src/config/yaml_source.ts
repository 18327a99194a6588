import {
  type Alias,
  type Document,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  type Node as YamlNode,
  parseDocument,
  type Scalar,
} from "yaml";
import type { Position } from "./errors.ts";
import { type Entry, LineIndex, type Node, type ParseResult, type SyntaxProblem } from "./nodes.ts";

// A config is a few hundred nodes; this only stops alias bombs ("billion laughs").
const MAX_EXPANDED_NODES = 100_000;
const STRING_TAG = "tag:yaml.org,2002:str";
const STRING_TYPES = new Set(["QUOTE_DOUBLE", "QUOTE_SINGLE", "BLOCK_LITERAL", "BLOCK_FOLDED"]);

/**
 * Parses YAML 1.2 into positioned nodes. Like Go's yaml.v3 (which Hyrouter uses) it reads one
 * document, rejects duplicate keys, expands aliases and applies merge keys (`<<`), explicit keys
 * winning over merged ones and earlier merged maps over later ones.
 */
export function parseYaml(text: string): ParseResult {
  const lines = new LineIndex(text);
  const doc = parseYamlDocument(text);
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e) => ({ position: lines.at(e.pos[0]), detail: e.message }));
    return { ok: false, problems };
  }
  const converter = new Converter(doc, lines);
  try {
    const contents = doc.contents;
    return { ok: true, root: contents === null ? null : converter.node(contents) };
  } catch (e) {
    if (e instanceof ConversionProblem) return { ok: false, problems: [e.problem] };
    throw e;
  }
}

function parseYamlDocument(text: string): Document {
  try {
    return parseDocument(text, { prettyErrors: false, uniqueKeys: true, merge: false });
  } catch (e) {
    // The yaml package's Node build reads process.env.LOG_TOKENS and LOG_STREAM while parsing.
    if (e instanceof Deno.errors.NotCapable) {
      throw new Error(
        "parsing YAML needs env access to LOG_TOKENS and LOG_STREAM " +
          "(run with --allow-env=LOG_TOKENS,LOG_STREAM or --ignore-env=LOG_TOKENS,LOG_STREAM)",
        { cause: e },
      );
    }
    throw e;
  }
}

class ConversionProblem extends Error {
  constructor(readonly problem: SyntaxProblem) {
    super(problem.detail);
  }
}

class Converter {
  #expanded = 0;
  readonly #resolving = new Set<unknown>();

  constructor(readonly doc: Document, readonly lines: LineIndex) {}

  node(n: YamlNode | null, fallback?: Position): Node {
    if (++this.#expanded > MAX_EXPANDED_NODES) {
      this.fail(fallback, "document expands to too many nodes (alias loop or alias bomb?)");
    }
    if (n === null) return { kind: "null", position: fallback ?? { line: 1, column: 1 } };
    const position = this.position(n, fallback);
    if (isAlias(n)) return this.alias(n, position);
    if (isScalar(n)) return this.scalar(n, position);
    if (isSeq(n)) {
      return { kind: "seq", position, items: n.items.map((i) => this.node(asNode(i), position)) };
    }
    if (isMap(n)) return { kind: "map", position, entries: this.entries(n.items, position) };
    return this.fail(position, "unsupported YAML node");
  }

  scalar(n: Scalar, position: Position): Node {
    const quoted = STRING_TYPES.has(n.type ?? "") || n.tag === STRING_TAG;
    if (n.value === null && !quoted) return { kind: "null", position };
    // A plain scalar keeps its source text: Go's yaml.v3 hands `1.50` to a string field as "1.50".
    const text = quoted ? String(n.value) : n.source ?? String(n.value);
    return { kind: "scalar", position, text, quoted };
  }

  alias(n: Alias, at: Position): Node {
    const target = n.resolve(this.doc);
    if (target === undefined) return this.fail(at, "alias refers to an unknown anchor");
    if (this.#resolving.has(target)) return this.fail(at, "alias refers to a node containing it");
    this.#resolving.add(target);
    const node = this.node(target, at);
    this.#resolving.delete(target);
    // Errors about the alias as a whole point at the alias; errors inside at the anchored text.
    return { ...node, position: at };
  }

  entries(pairs: readonly unknown[], at: Position): Entry[] {
    const explicit: Entry[] = [];
    const merged: Entry[] = [];
    for (const pair of pairs) {
      if (!isPair(pair)) continue;
      const key = asNode(pair.key);
      if (isScalar(key) && key.type === "PLAIN" && key.source === "<<") {
        merged.push(...this.mergeSources(asNode(pair.value), this.position(key, at)));
        continue;
      }
      const keyPosition = key === null ? at : this.position(key, at);
      const value = this.node(asNode(pair.value), keyPosition);
      explicit.push({ key: this.keyText(key, keyPosition), keyPosition, value });
    }
    const seen = new Set(explicit.map((e) => e.key));
    for (const entry of merged) {
      if (seen.has(entry.key)) continue;
      seen.add(entry.key);
      explicit.push(entry);
    }
    return explicit;
  }

  mergeSources(value: YamlNode | null, at: Position): Entry[] {
    const source = this.node(value, at);
    const maps = source.kind === "seq" ? source.items : [source];
    return maps.flatMap((m) => {
      if (m.kind !== "map") return this.fail(m.position, "a merge key (<<) needs a mapping");
      return m.entries;
    });
  }

  keyText(key: YamlNode | null, position: Position): string {
    if (key === null) return "";
    const node = this.node(key, position);
    if (node.kind === "null") return "";
    if (node.kind !== "scalar") return this.fail(position, "mapping keys must be scalars");
    return node.text;
  }

  position(n: YamlNode, fallback?: Position): Position {
    const start = n.range?.[0];
    return start === undefined ? fallback ?? { line: 1, column: 1 } : this.lines.at(start);
  }

  fail(position: Position | undefined, detail: string): never {
    throw new ConversionProblem({ position: position ?? { line: 1, column: 1 }, detail });
  }
}

function asNode(value: unknown): YamlNode | null {
  return value === null || value === undefined ? null : value as YamlNode;
}
