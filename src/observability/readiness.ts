/**
 * Readiness as a small set of named checks, evaluated on every `/readyz` request. The router
 * registers `listening` and `plugins_loaded`; each discovery provider adds its own
 * `discovery_<name>` (synced or not).
 */

/** What a check reports: ready or not, with an optional short detail for the body. */
export type CheckResult = boolean | { readonly ok: boolean; readonly detail?: string };

/** One named check; called on every `/readyz` request, so it should only read state. */
export type ReadinessCheck = () => CheckResult;

/** The evaluated state of one check. */
export interface CheckStatus {
  /** The check's registered name. */
  readonly name: string;
  /** Whether it passed. */
  readonly ok: boolean;
  /** Why it failed (or any note it gave); `null` when none. */
  readonly detail: string | null;
}

/** See the module comment. */
export class Readiness {
  readonly #checks = new Map<string, ReadinessCheck>();

  /** Adds the check `name`, or replaces the one of that name. */
  set(name: string, check: ReadinessCheck): void {
    this.#checks.set(name, check);
  }

  /** Removes the check `name` (a provider that is no longer configured). */
  delete(name: string): void {
    this.#checks.delete(name);
  }

  /**
   * Runs every check in the order they were added. Ready when all pass (and trivially when
   * there are none). A check that throws counts as failed, with its error as the detail.
   */
  evaluate(): { readonly ready: boolean; readonly checks: readonly CheckStatus[] } {
    const checks: CheckStatus[] = [];
    for (const [name, check] of this.#checks) checks.push(run(name, check));
    return { ready: checks.every((c) => c.ok), checks };
  }
}

function run(name: string, check: ReadinessCheck): CheckStatus {
  try {
    const result = check();
    if (typeof result === "boolean") return { name, ok: result, detail: null };
    return { name, ok: result.ok, detail: result.detail ?? null };
  } catch (err) {
    return { name, ok: false, detail: err instanceof Error ? err.message : String(err) };
  }
}
