/**
 * Timing primitives shared by every concern: retry back-off and the timer limit. This folder
 * imports nothing from the rest of `src/`, so any folder may use it without forming a cycle; it
 * has no npm dependency either, so code that runs in a plugin's permission-less child may too.
 *
 * @module
 */

export { Backoff, backoffDelay, type BackoffOptions, type RandomSource } from "./backoff.ts";
export { MAX_TIMER_MS } from "./max_timer.ts";
