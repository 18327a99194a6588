/**
 * Entry point of the `gatehouse` binary and of `deno task start|check|probe|plugin:test`; the
 * commands are listed in `mod.ts`.
 */
import { run } from "./mod.ts";

if (import.meta.main) {
  Deno.exitCode = await run(Deno.args);
}
