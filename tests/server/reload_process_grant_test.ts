/**
 * A reload that adds the first `wasm.isolation: process` plugin to a router started without run
 * permission on Deno is refused with a request to restart (`start` grants that permission only
 * when the config asks for it, see `cli/sandbox.ts`); with the grant it is not.
 */
import { assertEquals } from "../support/assert.ts";

const PROBE = new URL("./ungranted_probe.ts", import.meta.url).pathname;

async function ungranted(flags: string[]): Promise<string[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", ...flags, PROBE, "/srv/p.wasm"],
    stderr: "inherit",
  }).output();
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

Deno.test("reload: a process-isolated plugin needs run permission on Deno, else a restart", async () => {
  const deno = Deno.execPath();
  assertEquals(await ungranted(["--allow-read=/srv/p.wasm"]), [
    `c.yaml: plugin "p" needs run access to ${deno} (isolation: process), which this process was not started with; restart to apply it`,
  ]);
  assertEquals(await ungranted(["--allow-read=/srv/p.wasm", `--allow-run=${deno}`]), []);
});
