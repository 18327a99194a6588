/**
 * The longest duration a timer can wait: JavaScript timers treat anything above 2^31−1 ms
 * (about 24.8 days) as 1 ms, so longer configured timeouts would fire at once.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;
