/**
 * Prints `ungrantedPlugins` for one WASM plugin with `isolation: process` at the path given,
 * run by `reload_process_grant_test.ts` under chosen permissions.
 */
import type { Config } from "../../src/config/mod.ts";
import { ungrantedPlugins } from "../../src/server/reload.ts";

const plugin = { type: "wasm", name: "p", wasm: { path: Deno.args[0], isolation: "process" } };
const config = { source: "c.yaml", plugins: [plugin] } as unknown as Config;
console.log(JSON.stringify(ungrantedPlugins(config)));
