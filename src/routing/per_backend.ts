import type { Backend } from "../config/mod.ts";

/**
 * Wraps `derive` so that it runs once per backend object; later calls return the stored result
 * (`undefined` included). Safe because a `Backend` never changes: config backends are frozen and
 * discovery publishes new objects with each snapshot. A `WeakMap`, so that an old snapshot's
 * entries go with its backends.
 *
 * Only for values that depend on the backend alone: anything that also depends on the client or
 * the clock must be computed from the cached part on each decision.
 */
export function perBackend<T>(derive: (backend: Backend) => T): (backend: Backend) => T {
  const cache = new WeakMap<Backend, T>();
  return (backend) => {
    const hit = cache.get(backend);
    // `has` only on an `undefined` hit: a cached `undefined` is a result like any other.
    if (hit !== undefined || cache.has(backend)) return hit as T;
    const value = derive(backend);
    cache.set(backend, value);
    return value;
  };
}
