// A small JSON reader and writer for plugin messages (AssemblyScript). Values are a tree of
// JsonValue; objects keep their keys in order.

export const enum JsonKind {
  Null = 0,
  Bool = 1,
  Number = 2,
  String = 3,
  Array = 4,
  Object = 5,
}

export class JsonValue {
  kind: JsonKind = JsonKind.Null;
  bool: bool = false;
  num: f64 = 0;
  str: string = "";
  items: Array<JsonValue> = [];
  keys: Array<string> = [];

  /** The member `key` of an object, or null (also when this is not an object). */
  get(key: string): JsonValue | null {
    if (this.kind != JsonKind.Object) return null;
    for (let i = 0; i < this.keys.length; i++) {
      if (this.keys[i] == key) return this.items[i];
    }
    return null;
  }

  /** The string member `key`, or `fallback` when absent or not a string. */
  getString(key: string, fallback: string = ""): string {
    const v = this.get(key);
    return v != null && v.kind == JsonKind.String ? v.str : fallback;
  }

  /** The number member `key`, or `fallback`. */
  getNumber(key: string, fallback: f64 = 0): f64 {
    const v = this.get(key);
    return v != null && v.kind == JsonKind.Number ? v.num : fallback;
  }

  /** The boolean member `key`, or `fallback`. */
  getBool(key: string, fallback: bool = false): bool {
    const v = this.get(key);
    return v != null && v.kind == JsonKind.Bool ? v.bool : fallback;
  }
}

/** Parses UTF-8 JSON at [ptr, ptr+len); returns null when it is not valid JSON. */
export function parseJson(ptr: usize, len: usize): JsonValue | null {
  const p = new Parser(ptr, ptr + len);
  const v = p.value();
  if (v == null) return null;
  p.ws();
  return p.pos == p.end ? v : null;
}

class Parser {
  constructor(public pos: usize, public end: usize) {}

  peek(): i32 {
    return this.pos < this.end ? <i32> load<u8>(this.pos) : -1;
  }

  ws(): void {
    let c = this.peek();
    while (c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d) {
      this.pos++;
      c = this.peek();
    }
  }

  literal(word: string): bool {
    for (let i = 0; i < word.length; i++) {
      if (this.peek() != word.charCodeAt(i)) return false;
      this.pos++;
    }
    return true;
  }

  value(): JsonValue | null {
    this.ws();
    const c = this.peek();
    if (c == 0x7b) return this.object();
    if (c == 0x5b) return this.array();
    const v = new JsonValue();
    if (c == 0x22) {
      const s = this.string();
      if (s == null) return null;
      v.kind = JsonKind.String;
      v.str = s;
      return v;
    }
    if (c == 0x74 || c == 0x66) {
      v.kind = JsonKind.Bool;
      v.bool = c == 0x74;
      return this.literal(v.bool ? "true" : "false") ? v : null;
    }
    if (c == 0x6e) return this.literal("null") ? v : null;
    return this.number();
  }

  number(): JsonValue | null {
    const start = this.pos;
    let c = this.peek();
    while (
      (c >= 0x30 && c <= 0x39) || c == 0x2d || c == 0x2b || c == 0x2e || c == 0x65 || c == 0x45
    ) {
      this.pos++;
      c = this.peek();
    }
    if (this.pos == start) return null;
    const v = new JsonValue();
    v.kind = JsonKind.Number;
    v.num = parseFloat(String.UTF8.decodeUnsafe(start, this.pos - start));
    return isNaN(v.num) ? null : v;
  }

  string(): string | null {
    this.pos++; // opening quote
    // Fast path: no escapes, one decode.
    const start = this.pos;
    while (true) {
      const c = this.peek();
      if (c < 0x20) return null; // also the end of input (-1)
      if (c == 0x22) {
        const s = String.UTF8.decodeUnsafe(start, this.pos - start);
        this.pos++;
        return s;
      }
      if (c == 0x5c) break;
      this.pos++;
    }
    let out = "";
    let run = start;
    while (true) {
      const c = this.peek();
      if (c < 0 || c < 0x20) return null;
      if (c == 0x22) break;
      if (c != 0x5c) {
        this.pos++;
        continue;
      }
      out += String.UTF8.decodeUnsafe(run, this.pos - run);
      this.pos++;
      const e = this.peek();
      this.pos++;
      if (e == 0x6e) out += "\n";
      else if (e == 0x74) out += "\t";
      else if (e == 0x72) out += "\r";
      else if (e == 0x62) out += "\b";
      else if (e == 0x66) out += "\f";
      else if (e == 0x75) {
        if (this.pos + 4 > this.end) return null;
        const code = i32(parseInt(String.UTF8.decodeUnsafe(this.pos, 4), 16));
        if (code < 0) return null;
        out += String.fromCharCode(code);
        this.pos += 4;
      } else if (e == 0x22 || e == 0x5c || e == 0x2f) out += String.fromCharCode(e);
      else return null;
      run = this.pos;
    }
    out += String.UTF8.decodeUnsafe(run, this.pos - run);
    this.pos++; // closing quote
    return out;
  }

  array(): JsonValue | null {
    this.pos++;
    const v = new JsonValue();
    v.kind = JsonKind.Array;
    this.ws();
    if (this.peek() == 0x5d) {
      this.pos++;
      return v;
    }
    while (true) {
      const item = this.value();
      if (item == null) return null;
      v.items.push(item);
      this.ws();
      const c = this.peek();
      this.pos++;
      if (c == 0x5d) return v;
      if (c != 0x2c) return null;
    }
  }

  object(): JsonValue | null {
    this.pos++;
    const v = new JsonValue();
    v.kind = JsonKind.Object;
    this.ws();
    if (this.peek() == 0x7d) {
      this.pos++;
      return v;
    }
    while (true) {
      this.ws();
      if (this.peek() != 0x22) return null;
      const key = this.string();
      if (key == null) return null;
      this.ws();
      if (this.peek() != 0x3a) return null;
      this.pos++;
      const item = this.value();
      if (item == null) return null;
      v.keys.push(key);
      v.items.push(item);
      this.ws();
      const c = this.peek();
      this.pos++;
      if (c == 0x7d) return v;
      if (c != 0x2c) return null;
    }
  }
}

/** `s` as a JSON string literal. */
export function quote(s: string): string {
  // Unescaped runs are copied whole (one substring each), not character by character.
  let out = '"';
  let run = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c != 0x22 && c != 0x5c && c >= 0x20) continue;
    if (i > run) out += s.substring(run, i);
    run = i + 1;
    if (c == 0x22) out += '\\"';
    else if (c == 0x5c) out += "\\\\";
    else if (c == 0x0a) out += "\\n";
    else out += "\\u00" + (c < 0x10 ? "0" : "") + c.toString(16);
  }
  if (run == 0) return '"' + s + '"';
  return out + s.substring(run) + '"';
}
