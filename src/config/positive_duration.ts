import { MAX_TIMER_MS, parseDuration } from "./duration.ts";
import { ConfigError } from "./errors.ts";
import type { Obj, Reader } from "./fields.ts";

/**
 * The duration at `key` of `obj` in milliseconds (`250ms`, `5s`), which must be over 0 and at
 * most {@link MAX_TIMER_MS}; `undefined` when unset, blank or invalid (reported).
 */
export function readPositiveDuration(r: Reader, obj: Obj, key: string): number | undefined {
  const node = obj.get(key);
  const text = r.string(node, obj.at(key));
  if (text === undefined || node === undefined || text.trim() === "") return undefined;
  try {
    const ms = parseDuration(text.trim());
    if (ms > 0 && ms <= MAX_TIMER_MS) return ms;
    const detail = ms > 0
      ? `must be at most ${MAX_TIMER_MS} ms (~24.8 days)`
      : "must be greater than 0";
    return r.report("invalid", obj.at(key), node.position, detail);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return r.report("invalid", obj.at(key), node.position, e.message);
  }
}
