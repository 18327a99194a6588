/**
 * Tests that need a toolchain or a built artefact. Locally a missing one skips the test with a
 * note in its name; under `CI=true`, where .ci/run installs and builds everything on purpose, it
 * fails the test with what to install, so nothing is skipped silently.
 */

const IN_CI = Deno.env.get("CI") === "true";

/** What a test needs and how to get it. */
export interface Requirement {
  /** Whether it is there. */
  readonly available: boolean;
  /** What to run or install when it is not, e.g. `bash .ci/setup_wasm.sh`. */
  readonly install: string;
}

/**
 * `Deno.test` for a test that needs `requirement`: skipped locally (named `SKIPPED (install)`),
 * failing under CI with the same advice.
 */
export function testRequiring(
  requirement: Requirement,
  name: string,
  fn: (t: Deno.TestContext) => void | Promise<void>,
): void {
  if (requirement.available) return Deno.test(name, fn);
  const missing = `missing: ${requirement.install}`;
  if (IN_CI) {
    return Deno.test(name, () => {
      throw new Error(`${name}: ${missing} (CI=true, so this is a failure, not a skip)`);
    });
  }
  Deno.test({ name: `SKIPPED (${missing}): ${name}`, ignore: true, fn });
}
