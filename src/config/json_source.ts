import type { Position } from "./errors.ts";
import { type Entry, LineIndex, type Node, type ParseResult, type SyntaxProblem } from "./nodes.ts";

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  "\\": "\\",
  "/": "/",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
};

/**
 * Parses strict JSON (RFC 8259) into positioned nodes. Written by hand because `JSON.parse`
 * gives no positions and a YAML parser accepts more than JSON. Duplicate keys are an error
 * (Go's encoding/json would silently keep the last one).
 *
 * Why not `npm:yaml`'s `parseDocument` (YAML 1.2 reads every JSON text): measured on `.json`
 * configs, it accepts what Go's encoding/json — so Hyrouter — rejects: a trailing comma, `//`
 * comments, single quotes, a raw tab in a string, `012`, and bare words (`"max_connections":
 * tru` becomes the string "tru", reported as a type error; `"listen": 0.0.0.0:5520` loads). Where
 * both reject, this parser is as precise or more: a duplicate key is 4:3 in both, but here it
 * names the key and its first line; an unterminated string is one error at the line's end here,
 * three YAML errors at the wrong column there ("Implicit keys need to be on a single line", …).
 */
export function parseJson(text: string): ParseResult {
  const parser = new JsonParser(text);
  try {
    return { ok: true, root: parser.document() };
  } catch (e) {
    if (e instanceof JsonProblem) return { ok: false, problems: [e.problem] };
    throw e;
  }
}

class JsonProblem extends Error {
  constructor(readonly problem: SyntaxProblem) {
    super(problem.detail);
  }
}

class JsonParser {
  #at = 0;
  readonly #lines: LineIndex;

  constructor(readonly text: string) {
    this.#lines = new LineIndex(text);
    if (text.charCodeAt(0) === 0xfeff) this.#at = 1;
  }

  document(): Node {
    const root = this.value();
    this.skipSpace();
    if (this.#at < this.text.length) this.fail("unexpected content after the JSON value");
    return root;
  }

  value(): Node {
    this.skipSpace();
    const position = this.position();
    const c = this.text[this.#at];
    if (c === "{") return this.object(position);
    if (c === "[") return this.array(position);
    if (c === '"') return { kind: "scalar", position, text: this.string(), quoted: true };
    for (const word of ["true", "false", "null"]) {
      if (this.text.startsWith(word, this.#at)) {
        this.#at += word.length;
        if (word === "null") return { kind: "null", position };
        return { kind: "scalar", position, text: word, quoted: false };
      }
    }
    NUMBER.lastIndex = this.#at;
    const number = NUMBER.exec(this.text);
    if (number) {
      this.#at += number[0].length;
      return { kind: "scalar", position, text: number[0], quoted: false };
    }
    return this.fail(c === undefined ? "unexpected end of input" : `unexpected ${describe(c)}`);
  }

  object(position: Position): Node {
    this.#at++;
    const entries: Entry[] = [];
    const seen = new Map<string, Position>();
    if (this.consume("}")) return { kind: "map", position, entries };
    do {
      this.skipSpace();
      const keyPosition = this.position();
      if (this.text[this.#at] !== '"') this.fail("expected a double-quoted key");
      const key = this.string();
      const first = seen.get(key);
      if (first) this.fail(`duplicate key "${key}" (first at line ${first.line})`, keyPosition);
      seen.set(key, keyPosition);
      if (!this.consume(":")) this.fail('expected ":" after the key');
      entries.push({ key, keyPosition, value: this.value() });
    } while (this.consume(","));
    if (!this.consume("}")) this.fail('expected "," or "}"');
    return { kind: "map", position, entries };
  }

  array(position: Position): Node {
    this.#at++;
    const items: Node[] = [];
    if (this.consume("]")) return { kind: "seq", position, items };
    do items.push(this.value()); while (this.consume(","));
    if (!this.consume("]")) this.fail('expected "," or "]"');
    return { kind: "seq", position, items };
  }

  string(): string {
    const start = this.position();
    let out = "";
    for (this.#at++; this.#at < this.text.length; this.#at++) {
      const c = this.text[this.#at] ?? "";
      if (c === '"') {
        this.#at++;
        return out;
      }
      if (c === "\\") out += this.escape();
      else if (c < " ") this.fail(`${describe(c)} inside a string must be escaped`);
      else out += c;
    }
    return this.fail("unterminated string", start);
  }

  escape(): string {
    const c = this.text[++this.#at] ?? "";
    const simple = ESCAPES[c];
    if (simple !== undefined) return simple;
    const hex = this.text.slice(this.#at + 1, this.#at + 5);
    if (c !== "u" || !/^[0-9a-fA-F]{4}$/.test(hex)) this.fail("invalid escape sequence");
    this.#at += 4;
    return String.fromCharCode(parseInt(hex, 16));
  }

  consume(c: string): boolean {
    this.skipSpace();
    if (this.text[this.#at] !== c) return false;
    this.#at++;
    return true;
  }

  skipSpace(): void {
    while (/[ \t\n\r]/.test(this.text[this.#at] ?? "")) this.#at++;
  }

  position(): Position {
    return this.#lines.at(this.#at);
  }

  fail(detail: string, position = this.position()): never {
    throw new JsonProblem({ position, detail });
  }
}

function describe(c: string): string {
  const code = c.charCodeAt(0);
  return code < 0x20 ? `control character U+${code.toString(16).padStart(4, "0")}` : `"${c}"`;
}
