/**
 * Run by process_plugin_grants_test.ts under chosen permission flags: connects to the Unix
 * socket given and prints "ok", or the connect error's name.
 */
try {
  const conn = await Deno.connect({ transport: "unix", path: Deno.args[0]! });
  conn.close();
  console.log("ok");
} catch (err) {
  console.log((err as Error).name);
}
