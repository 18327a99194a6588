/**
 * Pipes stdin to a Unix socket and the socket to stdout, so that a test process without a grant for
 * that socket can still talk to it: Deno grants a Unix socket only by its exact path
 * (`--allow-net=unix:PATH`), which a test run's flags cannot know in advance, so
 * tests/support/process_driver.ts starts this with exactly that grant.
 *
 * Usage: deno run --allow-net=unix:PATH --allow-read=PATH --allow-write=PATH unix_relay.ts PATH
 * Ends when either side ends: the socket closed by the peer closes stdout, stdin closed by the test
 * closes the socket.
 */
const conn = await Deno.connect({ transport: "unix", path: Deno.args[0]! });
const toStdout = conn.readable.pipeTo(Deno.stdout.writable).catch(() => {});
await Promise.race([Deno.stdin.readable.pipeTo(conn.writable).catch(() => {}), toStdout]);
try {
  conn.close();
} catch {
  // Closed by the pipe already.
}
await toStdout;
// A read of stdin may still be pending, and would keep the process alive.
Deno.exit(0);
