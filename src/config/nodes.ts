import type { Position } from "./errors.ts";

/**
 * A parsed config document reduced to what the schema walker needs: mappings, lists, scalars
 * and nulls, each with its position. YAML and JSON both parse into this shape; aliases and merge
 * keys (`<<`) are already expanded.
 */
export type Node = MapNode | SeqNode | ScalarNode | NullNode;

/** The syntax a document came from; decides how scalars convert (see `fields.ts`). */
export type Format = "yaml" | "json";

/** A mapping, entries in document order (merged entries after the explicit ones). */
export interface MapNode {
  readonly kind: "map";
  readonly position: Position;
  readonly entries: readonly Entry[];
}

/** One key of a mapping. Keys are always text (YAML scalar keys keep their source text). */
export interface Entry {
  readonly key: string;
  readonly keyPosition: Position;
  readonly value: Node;
}

/** A list. */
export interface SeqNode {
  readonly kind: "seq";
  readonly position: Position;
  readonly items: readonly Node[];
}

/**
 * A non-null scalar. `text` is the scalar's text as written (for a plain YAML scalar `1.50`
 * stays `1.50`); `quoted` is true for anything that is a string by syntax (quoted or block
 * YAML scalars, `!!str`, JSON strings) and false for plain YAML scalars and JSON
 * numbers/booleans.
 */
export interface ScalarNode {
  readonly kind: "scalar";
  readonly position: Position;
  readonly text: string;
  readonly quoted: boolean;
}

/** An explicit or empty null (`~`, `null`, `key:` with no value, JSON `null`). */
export interface NullNode {
  readonly kind: "null";
  readonly position: Position;
}

/** A problem found while reading a document's syntax. */
export interface SyntaxProblem {
  readonly position: Position;
  readonly detail: string;
}

/** Result of reading a text: the root node (`null` for an empty YAML document) or problems. */
export type ParseResult =
  | { readonly ok: true; readonly root: Node | null }
  | { readonly ok: false; readonly problems: readonly SyntaxProblem[] };

/** Finds 1-based line:column of offsets in one text. */
export class LineIndex {
  readonly #starts: number[] = [0];

  constructor(text: string) {
    for (let i = 0; i < text.length; i++) {
      if (text.charCodeAt(i) === 10) this.#starts.push(i + 1);
    }
  }

  /** Position of a UTF-16 offset. */
  at(offset: number): Position {
    let lo = 0;
    let hi = this.#starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.#starts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - (this.#starts[lo] ?? 0) + 1 };
  }
}
