/**
 * Checking a plugin's answer against its documented shape, for every transport's decoder (the
 * JSON ConnectResponse in `codec.ts`, the msgpack `on_connect` result in `process/hooks.ts`): a
 * check returns the typed value or a {@link Problem} saying what is wrong, and
 * {@link optionalField} turns a problem into a `bad_response` error naming the field. Answers are
 * untrusted input: nothing here throws anything else.
 *
 * @module
 */
import { PluginError } from "./transport.ts";

/** Why a value does not have the documented shape. */
export class Problem {
  /** `text` says what was expected (`expected an integer`). */
  constructor(readonly text: string) {}
}

/** Checks one value: the typed value, or a {@link Problem}. */
export type Check<T> = (value: unknown) => T | Problem;

/** A `bad_response` error of `plugin`. */
export function badResponse(plugin: string, message: string): PluginError {
  return new PluginError(plugin, "bad_response", message);
}

/**
 * The value of `key` in `doc` (found by `lookup`, default the exact key) checked by `check`;
 * `null` when absent or null, a `bad_response` error naming the key when it has the wrong shape.
 */
export function optionalField<T>(
  doc: Record<string, unknown>,
  key: string,
  plugin: string,
  check: Check<T>,
  lookup: (doc: Record<string, unknown>, key: string) => unknown = (d, k) => d[k],
): T | null {
  const value = lookup(doc, key);
  if (value === undefined || value === null) return null;
  const result = check(value);
  if (result instanceof Problem) throw badResponse(plugin, `"${key}": ${result.text}`);
  return result;
}

/** A string. */
export const asString: Check<string> = (v) =>
  typeof v === "string" ? v : new Problem("expected a string");

/** An integer JavaScript represents exactly. */
export const asInt: Check<number> = (v) =>
  typeof v === "number" && Number.isSafeInteger(v) ? v : new Problem("expected an integer");

/** A boolean. */
export const asBool: Check<boolean> = (v) =>
  typeof v === "boolean" ? v : new Problem("expected true or false");

/** An array whose every item passes `item`; a problem names the first bad index. */
export function listOf<T>(item: Check<T>, expected: string): Check<readonly T[]> {
  return (v) => {
    if (!Array.isArray(v)) return new Problem(expected);
    const out: T[] = [];
    for (const [i, entry] of v.entries()) {
      const checked = item(entry);
      if (checked instanceof Problem) return new Problem(`[${i}]: ${checked.text}`);
      out.push(checked);
    }
    return out;
  };
}

/** A JSON object: any non-null, non-array object (its keys are checked where they are read). */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A port number as a backend carries it: an integer 0–65535 (0: the plugin left it out). */
export function isPort(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 65535;
}
