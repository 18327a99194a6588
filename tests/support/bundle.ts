/**
 * The one-file build as the bundle tests run it: copied alone into an empty directory beside the
 * `config_echo` WASM fixture, and started with the launcher's flags and no deno.json.
 */
import { fixture } from "../plugins/wasm/support.ts";
import type { Requirement } from "./requires.ts";
import { startTaskFlags } from "./start_task.ts";

const BUNDLE = new URL("../../dist/gatehouse.js", import.meta.url).pathname;

/** The bundle must have been built (CI builds it before the tests). */
export const BUNDLE_BUILT: Requirement = {
  available: await Deno.stat(BUNDLE).then(() => true, () => false),
  install: "deno task bundle",
};

/** The flags `deno task start` gives the launcher, and `--no-config`: the bundle has no deno.json. */
export const LAUNCHER_FLAGS = ["--no-config", ...await startTaskFlags()];

/** A new temporary directory holding `gatehouse.js` and `echo.wasm`; returns its path. */
export async function bundleDir(prefix: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix });
  await Deno.copyFile(BUNDLE, `${dir}/gatehouse.js`);
  await Deno.writeFile(`${dir}/echo.wasm`, await fixture("config_echo"));
  return dir;
}
