import type { AnnotationRequirement, LabelRequirement } from "./types.ts";

/** A selector syntax error at `offset` (0-based, in UTF-16 units of the selector text). */
export interface SelectorProblem {
  readonly offset: number;
  readonly detail: string;
}

/** Result of parsing a selector: the requirements, or the first problem. */
export type SelectorResult<T> =
  | { readonly ok: true; readonly requirements: readonly T[] }
  | { readonly ok: false; readonly problem: SelectorProblem };

type TokenKind = "id" | "!" | "!=" | "=" | "==" | "(" | ")" | "," | "<" | ">" | "end";

interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  readonly offset: number;
}

class SelectorSyntax extends Error {
  constructor(readonly offset: number, detail: string) {
    super(detail);
  }
}

// Characters that end an identifier (Kubernetes' label-selector lexer).
const SPECIAL = new Set(["!", "=", "(", ")", ",", "<", ">"]);
const WHITESPACE = /\s/;
const NAME = /^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?)$/;
const DNS_SUBDOMAIN = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/;
const INTEGER = /^[-+]?[0-9]+$/;

/**
 * Parses a Kubernetes label selector (`app=game,region in (eu,us)`, `!key`, `key!=v`, `key`,
 * `key notin (a,b)`, `key>3`) with the grammar and validation of
 * `k8s.io/apimachinery/pkg/labels.Parse`: keys are qualified names (`[dns-prefix/]name`, name
 * ≤ 63 characters), values are empty or label values (≤ 63), `>`/`<` take an integer. The
 * empty selector matches everything. `==` and `=` mean `in` with one value, `!=` `notin`.
 */
export function parseLabelSelector(text: string): SelectorResult<LabelRequirement> {
  const tokens = lex(text);
  if (!Array.isArray(tokens)) return { ok: false, problem: tokens };
  const parser = new Parser(tokens);
  try {
    return { ok: true, requirements: parser.selector() };
  } catch (err) {
    if (!(err instanceof SelectorSyntax)) throw err;
    return { ok: false, problem: { offset: err.offset, detail: err.message } };
  }
}

/**
 * Parses an annotation selector: a comma-separated list of `key=value` pairs, all of which
 * must match (blank items are skipped; keys and values are trimmed and must not be empty), as
 * the Go router reads it.
 */
export function parseAnnotationSelector(text: string): SelectorResult<AnnotationRequirement> {
  const requirements: AnnotationRequirement[] = [];
  let offset = 0;
  for (const part of text.split(",")) {
    const item = part.trim();
    const at = offset + part.indexOf(item);
    offset += part.length + 1;
    if (item === "") continue;
    const eq = item.indexOf("=");
    const key = eq < 0 ? "" : item.slice(0, eq).trim();
    const value = eq < 0 ? "" : item.slice(eq + 1).trim();
    if (key === "" || value === "") {
      const detail = `invalid annotation requirement ${JSON.stringify(item)} (want key=value)`;
      return { ok: false, problem: { offset: at, detail } };
    }
    requirements.push({ key, value });
  }
  return { ok: true, requirements };
}

function lex(text: string): Token[] | SelectorProblem {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i] ?? "";
    if (WHITESPACE.test(ch)) {
      i++;
    } else if (SPECIAL.has(ch)) {
      const two = text.slice(i, i + 2);
      const kind = two === "!=" || two === "==" ? two : ch as TokenKind;
      tokens.push({ kind, text: kind, offset: i });
      i += kind.length;
    } else {
      const start = i;
      while (i < text.length && !SPECIAL.has(text[i] ?? "") && !WHITESPACE.test(text[i] ?? "")) i++;
      tokens.push({ kind: "id", text: text.slice(start, i), offset: start });
    }
  }
  tokens.push({ kind: "end", text: "end of string", offset: text.length });
  return tokens;
}

class Parser {
  #at = 0;

  constructor(readonly tokens: readonly Token[]) {}

  selector(): LabelRequirement[] {
    const out: LabelRequirement[] = [];
    if (this.#peek().kind === "end") return out;
    for (;;) {
      out.push(this.#requirement());
      const next = this.#next();
      if (next.kind === "end") return out;
      if (next.kind !== ",") throw expected(next, "',' or end of string");
    }
  }

  #requirement(): LabelRequirement {
    const first = this.#next();
    if (first.kind === "!") {
      const key = this.#next();
      if (key.kind !== "id") throw expected(key, "a label key");
      return { op: "not_exists", key: checkKey(key) };
    }
    if (first.kind !== "id") throw expected(first, "a label key or '!'");
    const key = checkKey(first);
    const op = this.#peek();
    if (op.kind === "end" || op.kind === ",") return { op: "exists", key };
    this.#next();
    if (op.kind === "=" || op.kind === "==" || op.kind === "!=") {
      const value = this.#exactValue();
      return { op: op.kind === "!=" ? "not_in" : "in", key, values: [value] };
    }
    if (op.kind === ">" || op.kind === "<") {
      const value = this.#next();
      if (value.kind !== "id" || !INTEGER.test(value.text)) throw expected(value, "an integer");
      return { op: op.kind === ">" ? "gt" : "lt", key, value: Number(value.text) };
    }
    if (op.kind === "id" && (op.text === "in" || op.text === "notin")) {
      return { op: op.text === "in" ? "in" : "not_in", key, values: this.#valueSet() };
    }
    throw expected(op, "one of '=', '==', '!=', 'in', 'notin', '>', '<'");
  }

  /** The value after `=`, `==` or `!=`; none (end or comma) means the empty value. */
  #exactValue(): string {
    const next = this.#peek();
    if (next.kind === "end" || next.kind === ",") return "";
    this.#next();
    if (next.kind !== "id") throw expected(next, "a label value");
    return checkValue(next);
  }

  /** `( v1, v2 … )`; empty items are empty values, as in Kubernetes. */
  #valueSet(): string[] {
    const open = this.#next();
    if (open.kind !== "(") throw expected(open, "'('");
    const values: string[] = [];
    let item = "";
    for (;;) {
      const token = this.#next();
      if (token.kind === "id") {
        if (item !== "") throw expected(token, "',' or ')'");
        item = checkValue(token);
      } else if (token.kind === "," || token.kind === ")") {
        values.push(item);
        item = "";
        if (token.kind === ")") return values;
      } else {
        throw expected(token, "a label value, ',' or ')'");
      }
    }
  }

  #peek(): Token {
    return this.tokens[this.#at] ?? this.tokens[this.tokens.length - 1]!;
  }

  #next(): Token {
    const token = this.#peek();
    if (this.#at < this.tokens.length - 1) this.#at++;
    return token;
  }
}

function expected(token: Token, what: string): SelectorSyntax {
  const found = token.kind === "end" ? "end of string" : `'${token.text}'`;
  return new SelectorSyntax(token.offset, `found ${found}, expected ${what}`);
}

function checkKey(token: Token): string {
  const key = token.text;
  const slash = key.indexOf("/");
  const name = slash < 0 ? key : key.slice(slash + 1);
  const prefix = slash < 0 ? null : key.slice(0, slash);
  if (prefix !== null && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) {
    throw new SelectorSyntax(
      token.offset,
      `invalid label key ${JSON.stringify(key)}: the prefix must be a DNS subdomain`,
    );
  }
  if (name.length > 63 || !NAME.test(name)) {
    const detail = `invalid label key ${JSON.stringify(key)}: ` +
      "the name must be 1-63 alphanumerics, '-', '_' or '.', starting and ending alphanumeric";
    throw new SelectorSyntax(token.offset + (slash + 1), detail);
  }
  return key;
}

function checkValue(token: Token): string {
  if (token.text.length <= 63 && NAME.test(token.text)) return token.text;
  const detail = `invalid label value ${JSON.stringify(token.text)}: ` +
    "must be at most 63 alphanumerics, '-', '_' or '.', starting and ending alphanumeric";
  throw new SelectorSyntax(token.offset, detail);
}
