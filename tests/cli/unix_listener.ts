/**
 * Stands in for a process plugin's socket in process_plugin_grants_test.ts, whose own flags
 * cannot know the socket's path in advance (Deno grants a Unix socket only by its exact path):
 * listens on the path given, prints "listening", then every line a connection sends.
 *
 * Usage: deno run --allow-net=unix:PATH --allow-read=PATH --allow-write=PATH unix_listener.ts PATH
 */
const listener = Deno.listen({ transport: "unix", path: Deno.args[0]! });
console.log("listening");
for await (const conn of listener) {
  conn.readable.pipeTo(Deno.stdout.writable, { preventClose: true }).catch(() => {});
}
