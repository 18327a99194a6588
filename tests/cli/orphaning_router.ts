/**
 * A stand-in for the router, started by the launcher in process_plugin_grants_test.ts with the
 * exact flags of a config that has one process plugin (`command: [sleep, "60"]`): it starts that
 * program as a plugin would be started, connects to the plugin's socket (where the test
 * listens), sends "<its pid> <the program's pid>" and waits — until the test SIGKILLs it.
 */
const socket = Deno.args.at(-1)!;
const plugin = new Deno.Command("sleep", {
  args: ["60"],
  stdin: "null",
  stdout: "null",
  stderr: "null",
}).spawn();
const conn = await Deno.connect({ transport: "unix", path: socket });
await conn.write(new TextEncoder().encode(`${Deno.pid} ${plugin.pid}\n`));
await plugin.status;
