/** Marker `withinMs` resolves with when the time ran out first. */
export const TIMED_OUT: unique symbol = Symbol("timed out");

/**
 * Resolves with `promise`'s value (or rejects with its error), or with `TIMED_OUT` after `ms`.
 * The losing promise is left to settle on its own; its rejection is swallowed so it never
 * becomes unhandled.
 */
export function withinMs<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  promise.catch(() => {});
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve(TIMED_OUT), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

/** Waits for `promise` at most `ms`; never rejects. Returns whether it settled in time. */
export function settleWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  // A plain timer rather than an AbortController: this runs once per connection.
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    const done = () => {
      clearTimeout(timer);
      resolve(true);
    };
    promise.then(done, done);
  });
}

/** Closes a QUIC connection (application code 0, no reason); one already closed is fine. */
export function closeQuietly(conn: Deno.QuicConn): void {
  try {
    conn.close({ closeCode: 0, reason: "" });
  } catch {
    // Already closed.
  }
}
