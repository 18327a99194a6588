/**
 * Prints `ungrantedPlugins` for one process plugin (program `Deno.args[0]`, socket folder
 * `Deno.args[1]`), run by `reload_process_plugin_grant_test.ts` under chosen permissions.
 */
import type { Config } from "../../src/config/mod.ts";
import { ungrantedPlugins } from "../../src/server/reload.ts";

const [program, socketDir] = Deno.args;
const process = {
  command: program === "" ? null : [program],
  module: program === "" ? "/srv/m.ts" : null,
  socketDir,
  socketPath: `${socketDir}/plugin.sock`,
};
const config = { source: "c.yaml", plugins: [{ type: "process", name: "p", process }] };
console.log(JSON.stringify(ungrantedPlugins(config as unknown as Config)));
