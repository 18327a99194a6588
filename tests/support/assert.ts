/**
 * Test assertions on `node:assert/strict` (JSR's `@std/assert` is unreachable here), with the
 * names Deno developers know.
 */
import assertStrict from "node:assert/strict";

export function assert(value: unknown, message?: string): asserts value {
  assertStrict.ok(value, message ?? "assertion failed");
}

export function assertEquals<T>(actual: T, expected: T, message?: string): void {
  if (message === undefined) assertStrict.deepStrictEqual(actual, expected);
  else assertStrict.deepStrictEqual(actual, expected, message);
}

export function assertMatch(actual: string, expected: RegExp, message?: string): void {
  if (message === undefined) assertStrict.match(actual, expected);
  else assertStrict.match(actual, expected, message);
}

/** Awaits `fn`, asserts it rejects with an instance of `ErrorClass`, and returns the error. */
export async function assertRejects<E extends Error>(
  fn: () => Promise<unknown>,
  // deno-lint-ignore no-explicit-any
  ErrorClass: new (...args: any[]) => E,
): Promise<E> {
  try {
    await fn();
  } catch (err) {
    assertStrict.ok(err instanceof ErrorClass, `expected ${ErrorClass.name}, got ${err}`);
    return err as E;
  }
  throw new assertStrict.AssertionError({ message: `expected ${ErrorClass.name} to be thrown` });
}

/** Calls `fn`, asserts it throws an instance of `ErrorClass`, and returns the error. */
export function assertThrows<E extends Error>(
  fn: () => unknown,
  // deno-lint-ignore no-explicit-any
  ErrorClass: new (...args: any[]) => E,
): E {
  try {
    fn();
  } catch (err) {
    assertStrict.ok(err instanceof ErrorClass, `expected ${ErrorClass.name}, got ${err}`);
    return err as E;
  }
  throw new assertStrict.AssertionError({ message: `expected ${ErrorClass.name} to be thrown` });
}
