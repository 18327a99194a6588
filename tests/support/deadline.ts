/** Bounded waits on an event a test can await: never a sleep standing in for one. */

/**
 * What `promise` settles to, or a rejection `${what} (waited ${ms} ms)` once `ms` have passed
 * (no timer is left behind either way).
 */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} (waited ${ms} ms)`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}
