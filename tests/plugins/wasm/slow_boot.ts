/**
 * Imported first by `slow_boot_worker.ts`: spins for a second while the worker's module graph
 * evaluates, as a worker thread starved of CPU on a loaded host boots slowly.
 */
const until = performance.now() + 1_000;
while (performance.now() < until) {
  // Busy on purpose: a sleep would let the worker's event loop run.
}
