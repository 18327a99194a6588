/**
 * Freezes plain objects and arrays reachable from `value`, in place, and returns it. Maps and
 * typed arrays are left as they are (freezing cannot make them immutable); their types are
 * readonly already.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== "object" || value === null || Object.isFrozen(value)) return value;
  if (value instanceof Map) {
    for (const v of value.values()) deepFreeze(v);
    return value;
  }
  if (ArrayBuffer.isView(value)) return value;
  for (const v of Object.values(value)) deepFreeze(v);
  return Object.freeze(value);
}
