import { ConfigError, type ConfigErrorCode, type Position } from "./errors.ts";
import type { Entry, Format, MapNode, Node } from "./nodes.ts";
import { isSecretPath } from "./secrets.ts";
import { closest, didYouMean } from "./suggest.ts";

/** A mapping with a fixed key set whose keys were checked; values by key. */
export class Obj {
  constructor(
    readonly node: MapNode,
    readonly path: string,
    private readonly values: ReadonlyMap<string, Entry>,
    /** Valid keys that an unknown key here was probably meant to be. */
    readonly misspelt: ReadonlySet<string> = new Set(),
  ) {}

  /** The value under `key`; `undefined` when the key is absent (a null value is returned). */
  get(key: string): Node | undefined {
    return this.values.get(key)?.value;
  }

  /** The keys present, in document order. */
  keys(): readonly string[] {
    return [...this.values.keys()];
  }

  /** Position of `key` itself, or of the mapping when the key is absent. */
  keyPosition(key: string): Position {
    return this.values.get(key)?.keyPosition ?? this.node.position;
  }

  /** Config path of `key` inside this mapping. */
  at(key: string): string {
    return childPath(this.path, key);
  }
}

/** Config path of a mapping key: `a.b`, or `a["x.y/z"]` for keys that are not plain words. */
export function childPath(parent: string, key: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(key)) return `${parent}[${JSON.stringify(key)}]`;
  return parent === "" ? key : `${parent}.${key}`;
}

/** Config path of a list item. */
export function indexPath(parent: string, index: number): string {
  return `${parent}[${index}]`;
}

const MAX_INT = Number.MAX_SAFE_INTEGER;
// yaml.v3 turns these into a bool when the target field is a bool (YAML 1.1 compatibility),
// even when quoted; plain true/false spellings are YAML 1.2 booleans.
const YAML_TRUE = new Set(["y", "Y", "yes", "Yes", "YES", "on", "On", "ON"]);
const YAML_FALSE = new Set(["n", "N", "no", "No", "NO", "off", "Off", "OFF"]);
/** YAML 1.2 core-schema booleans (plain scalars). */
export const PLAIN_BOOLS: Readonly<Record<string, boolean>> = {
  true: true,
  True: true,
  TRUE: true,
  false: false,
  False: false,
  FALSE: false,
};
const YAML_INT = /^([-+]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]+|0|[1-9][0-9]*)$/;
const YAML_FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/;

/**
 * Walks a parsed document: typed getters that record every problem (with config path and
 * position) and return `undefined` for anything missing or invalid, so one pass finds all
 * errors. Null values count as absent, as in Go (yaml.v3 and encoding/json leave a field at its
 * default when given null).
 *
 * Scalar conversions follow what Hyrouter's decoders accept. YAML (yaml.v3): a string field
 * takes any scalar as written (`meta: {slots: 10}` gives "10"); an integer field takes plain
 * numbers (hex/octal/binary, `_` separators) but never a quoted string; a bool field takes
 * true/false and the YAML 1.1 words yes/no/on/off/y/n. JSON (encoding/json): types must match
 * exactly, and keys match case-insensitively.
 */
export class Reader {
  readonly errors: ConfigError[] = [];

  constructor(readonly source: string, readonly format: Format) {}

  /** Records a problem; returns `undefined` so getters can `return this.report(…)`. */
  report(
    code: ConfigErrorCode,
    path: string,
    position: Position | null,
    detail: string,
    hint: string | null = null,
  ): undefined {
    this.errors.push(new ConfigError({ code, source: this.source, path, position, detail, hint }));
    return undefined;
  }

  /** A mapping whose keys must be among `keys`; unknown keys are reported with a suggestion. */
  object(node: Node | undefined, path: string, keys: readonly string[]): Obj | undefined {
    if (node === undefined || node.kind === "null") return undefined;
    if (node.kind !== "map") return this.typeError(node, path, "a mapping");
    const values = new Map<string, Entry>();
    const misspelt = new Set<string>();
    for (const entry of node.entries) {
      const key = this.knownKey(entry, keys);
      if (key === undefined) {
        const suggestion = closest(entry.key, keys);
        if (suggestion !== null) misspelt.add(suggestion);
        const hint = suggestion === null
          ? `valid keys: ${keys.join(", ")}`
          : `did you mean "${suggestion}"?`;
        const detail = `unknown key "${entry.key}"`;
        this.report("unknown_key", childPath(path, entry.key), entry.keyPosition, detail, hint);
      } else if (values.has(key)) {
        this.report("syntax", childPath(path, key), entry.keyPosition, `key "${key}" is set twice`);
      } else {
        values.set(key, entry);
      }
    }
    return new Obj(node, path, values, misspelt);
  }

  /** A list item that must be a mapping (yaml.v3 silently drops null items; we report them). */
  item(node: Node, path: string, keys: readonly string[]): Obj | undefined {
    if (node.kind === "null") return this.typeError(node, path, "a mapping");
    return this.object(node, path, keys);
  }

  /** A list of strings, each non-blank. */
  strings(node: Node | undefined, path: string): readonly string[] | undefined {
    const items = this.list(node, path);
    if (items === undefined) return undefined;
    const out: string[] = [];
    items.forEach((item, i) => {
      const value = item.kind === "null"
        ? this.typeError(item, indexPath(path, i), "a string")
        : this.string(item, indexPath(path, i));
      if (value !== undefined && value.trim() === "") {
        this.report("invalid", indexPath(path, i), item.position, "must not be empty");
      } else if (value !== undefined) out.push(value);
    });
    return out;
  }

  /** A mapping with free-form keys (meta, locales). */
  entries(node: Node | undefined, path: string): readonly Entry[] | undefined {
    if (node === undefined || node.kind === "null") return undefined;
    if (node.kind !== "map") return this.typeError(node, path, "a mapping");
    return node.entries;
  }

  /** A list. */
  list(node: Node | undefined, path: string): readonly Node[] | undefined {
    if (node === undefined || node.kind === "null") return undefined;
    if (node.kind !== "seq") return this.typeError(node, path, "a list");
    return node.items;
  }

  /** A string. */
  string(node: Node | undefined, path: string): string | undefined {
    if (node === undefined || node.kind === "null") return undefined;
    if (node.kind === "scalar" && (node.quoted || this.format === "yaml")) return node.text;
    return this.typeError(node, path, "a string");
  }

  /** An integer in `[min, max]`. */
  int(node: Node | undefined, path: string, min = 0, max = MAX_INT): number | undefined {
    if (node === undefined || node.kind === "null") return undefined;
    const value = node.kind === "scalar" && !node.quoted ? this.number(node.text) : null;
    if (value === null || !Number.isInteger(value)) return this.typeError(node, path, "an integer");
    if (value < min || value > max) {
      const range = max === MAX_INT ? `at least ${min}` : `between ${min} and ${max}`;
      const got = isSecretPath(path) ? "" : `, got ${value}`;
      return this.report("invalid", path, node.position, `must be ${range}${got}`);
    }
    return value;
  }

  /** A boolean. */
  bool(node: Node | undefined, path: string): boolean | undefined {
    if (node === undefined || node.kind === "null") return undefined;
    if (node.kind === "scalar") {
      if (!node.quoted && node.text in PLAIN_BOOLS) {
        const value = PLAIN_BOOLS[node.text];
        if (this.format === "yaml" || node.text === String(value)) return value;
      }
      if (this.format === "yaml" && YAML_TRUE.has(node.text)) return true;
      if (this.format === "yaml" && YAML_FALSE.has(node.text)) return false;
    }
    return this.typeError(node, path, "true or false");
  }

  /**
   * A value that must be present and non-null. Reports a missing key at the mapping's position
   * and a null value at its own position.
   */
  required(obj: Obj, key: string): Node | undefined {
    const node = obj.get(key);
    if (node === undefined) {
      // A misspelling of this key was already reported; "missing" would only repeat it.
      if (obj.misspelt.has(key)) return undefined;
      return this.report("required", obj.at(key), obj.node.position, "missing required key");
    }
    if (node.kind === "null") {
      return this.report("required", obj.at(key), node.position, "must not be empty");
    }
    return node;
  }

  /** A required string that must not be blank; returned trimmed. */
  text(obj: Obj, key: string): string | undefined {
    const node = this.required(obj, key);
    const value = node && this.string(node, obj.at(key));
    if (value === undefined || value.trim() !== "") return value?.trim();
    return this.report("required", obj.at(key), node?.position ?? null, "must not be empty");
  }

  /**
   * One of `allowed`, compared the way Hyrouter normalises names: trimmed, lower case, `-` as
   * `_`. Blank gives `blank` (or a "must not be empty" error when there is no default).
   */
  choice<T extends string>(
    node: Node | undefined,
    path: string,
    what: string,
    allowed: readonly T[],
    blank?: T,
  ): T | undefined {
    const raw = this.string(node, path);
    if (raw === undefined || node === undefined) return undefined;
    const name = normalizeName(raw);
    if (name === "") {
      return blank ?? this.report("required", path, node.position, "must not be empty");
    }
    const found = allowed.find((a) => a === name);
    if (found !== undefined) return found;
    const secret = isSecretPath(path);
    const hint = (secret ? null : didYouMean(raw, allowed)) ??
      `expected one of: ${allowed.join(", ")}`;
    const shown = secret ? "" : ` ${JSON.stringify(raw)}`;
    return this.report("invalid", path, node.position, `unknown ${what}${shown}`, hint);
  }

  /** Reports `node` as having the wrong type (naming its value unless that is a secret). */
  typeError(node: Node, path: string, expected: string): undefined {
    const got = isSecretPath(path) ? describeKind(node, this.format) : describe(node);
    return this.report("type", path, node.position, `expected ${expected}, got ${got}`);
  }

  private knownKey(entry: Entry, keys: readonly string[]): string | undefined {
    if (keys.includes(entry.key)) return entry.key;
    // encoding/json matches struct fields case-insensitively; yaml.v3 does not.
    if (this.format !== "json") return undefined;
    return keys.find((k) => k.toLowerCase() === entry.key.toLowerCase());
  }

  private number(text: string): number | null {
    if (this.format === "json") return Number(text);
    const plain = text.replaceAll("_", "");
    const int = YAML_INT.exec(plain);
    if (int) {
      const digits = int[2] ?? "";
      const value = /^0[0-7]+$/.test(digits) ? parseInt(digits, 8) : Number(digits);
      return int[1] === "-" ? -value : value;
    }
    return YAML_FLOAT.test(plain) ? Number(plain) : null;
  }
}

/** Hyrouter's name normalisation (strategies, sort orders, filter types, …). */
export function normalizeName(raw: string): string {
  return raw.trim().toLowerCase().replaceAll("-", "_");
}

// What a node is, without its value (for secrets): the kind, and for JSON scalars the type.
function describeKind(node: Node, format: Format): string {
  if (node.kind !== "scalar") return describe(node);
  if (node.quoted) return "a string";
  if (format === "yaml") return "a plain scalar";
  return node.text === "true" || node.text === "false" ? "a boolean" : "a number";
}

function describe(node: Node): string {
  switch (node.kind) {
    case "map":
      return "a mapping";
    case "seq":
      return "a list";
    case "null":
      return "null";
    case "scalar":
      return node.quoted ? `the string ${JSON.stringify(node.text)}` : node.text;
  }
}
