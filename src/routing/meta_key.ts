import { type Backend, goTrimSpace } from "../config/mod.ts";
import { parseGoFloat } from "./go_compat.ts";
import { perBackend } from "./per_backend.ts";

/** Reads one key of a backend as text; `undefined` = missing (absent or empty). */
export type StringKeyReader = (backend: Backend) => string | undefined;

/** Reads one key of a backend as a number; `undefined` = missing or not a Go float. */
export type NumberKeyReader = (backend: Backend) => number | undefined;

type Field =
  | { readonly kind: "none" | "host" | "port" | "weight" }
  | { readonly kind: "meta"; readonly name: string };

// `label:X` and friends name the metadata the discovery providers write as `label.X` etc.
const NAMESPACES: readonly (readonly [prefix: string, metaPrefix: string])[] = [
  ["label:", "label."],
  ["annotation:", "annotation."],
  ["counter:", "counter."],
];

/** Resolves a configured key once, at compile time, to what it reads. */
function resolveField(key: string): Field {
  const k = goTrimSpace(key);
  if (k === "") return { kind: "none" };
  if (k === "host" || k === "port" || k === "weight") return { kind: k };
  for (const [prefix, metaPrefix] of NAMESPACES) {
    if (k.startsWith(prefix)) {
      return { kind: "meta", name: metaPrefix + goTrimSpace(k.slice(prefix.length)) };
    }
  }
  return { kind: "meta", name: k };
}

/**
 * A metadata value, `""` when absent. The type check keeps inherited `Object.prototype`
 * members (`constructor`, `toString`) from reading as values.
 */
export function metaValue(backend: Backend, name: string): string {
  const value = backend.meta?.[name];
  return typeof value === "string" ? value : "";
}

/** Compiles a `key` / `sort[].key` for `type: string`: port and weight read as decimal text. */
export function compileStringKey(key: string): StringKeyReader {
  const field = resolveField(key);
  switch (field.kind) {
    case "none":
      return () => undefined;
    case "host":
      return (b) => b.host === "" ? undefined : b.host;
    case "port":
      return (b) => String(b.port);
    case "weight":
      return (b) => String(b.weight);
    case "meta": {
      const { name } = field;
      return (b) => metaValue(b, name) || undefined;
    }
  }
}

/**
 * Compiles a key read as a number: port and weight directly, anything else as a Go float.
 * The float is parsed once per backend object (see `perBackend`): strategies, compare filters
 * and sorts read it on every decision.
 */
export function compileNumberKey(key: string): NumberKeyReader {
  const field = resolveField(key);
  switch (field.kind) {
    case "none":
      return () => undefined;
    case "host":
      return perBackend((b) => b.host === "" ? undefined : parseGoFloat(b.host));
    case "port":
      return (b) => b.port;
    case "weight":
      return (b) => b.weight;
    case "meta": {
      const { name } = field;
      return perBackend((b) => {
        const raw = metaValue(b, name);
        return raw === "" ? undefined : parseGoFloat(raw);
      });
    }
  }
}
