/** Marker resolved by `raceDeadline` when the signal fired first. */
export const ABORTED: unique symbol = Symbol("aborted");

/**
 * Resolves with `promise`'s value, or with `ABORTED` as soon as `signal` aborts. The losing
 * promise is left to settle on its own (its rejection is swallowed so it is never unhandled).
 */
export function raceAbort<T>(
  promise: Promise<T>,
  signal: AbortSignal,
): Promise<T | typeof ABORTED> {
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.resolve(ABORTED);
  }
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve(ABORTED);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}

/** An AbortController that aborts after `ms`; `clear()` cancels the timer (no leaked timers). */
export function deadline(ms: number): { readonly signal: AbortSignal; clear(): void } {
  const controller = new AbortController();
  const id = setTimeout(() => controller.abort(), ms);
  return { signal: controller.signal, clear: () => clearTimeout(id) };
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
