/**
 * Runs `start` as a subprocess with exactly the permission flags of `deno task start`, as an
 * operator would, and checks it serves, sandboxes itself and stops cleanly.
 */
import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { run } from "../../src/cli/mod.ts";
import { ChildLines } from "../support/child_lines.ts";
import { parseConfig } from "../../src/config/mod.ts";
import { configFingerprint } from "../../src/config/fingerprint.ts";

const deno = JSON.parse(await Deno.readTextFile("deno.json"));
const startTask: string = deno.tasks.start;

/** `deno task start` as an argv for Deno.Command, extra arguments appended. */
function startCommand(extra: string[]): Deno.Command {
  const [, ...args] = startTask.split(" ");
  return new Deno.Command(Deno.execPath(), {
    args: [...args, ...extra],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  });
}

async function tempConfig(text: string): Promise<string> {
  const path = await Deno.makeTempFile({ suffix: ".yaml" });
  await Deno.writeTextFile(path, text);
  return path;
}

Deno.test("start serves with the task's permissions and exits 0 on SIGTERM", async () => {
  const path = await tempConfig(`
listen: "127.0.0.1:0"
admin: { listen: "127.0.0.1:0" }
routing:
  default: { strategy: round_robin, backends: [{ host: a.internal, port: 5520 }] }
`);
  const child = startCommand(["--config", path]).spawn();
  const lines = new ChildLines(child.stderr);
  try {
    const admin = await lines.next(/admin endpoint addr=127\.0\.0\.1:(\d+)/);
    const m = await lines.next(/\blistening addr=127\.0\.0\.1:(\d+)/);
    const out: string[] = [];
    const io = { out: (l: string) => out.push(l), err: () => {} };
    assertEquals(await run(["probe", `127.0.0.1:${m[1]}`, "--sni", "any.example"], io), 0);
    assertEquals(JSON.parse(out[0]!).host, "a.internal");
    await lines.next(/connection outcome=referral/);
    // The admin endpoint still answers after `net` was revoked (no gRPC plugins here).
    const metrics = await (await fetch(`http://127.0.0.1:${admin[1]}/metrics`)).text();
    assertMatch(metrics, /^gatehouse_connections_accepted_total 1$/m);
    // The config's fingerprint (secrets removed), not the file's hash.
    const hex = await configFingerprint(parseConfig(await Deno.readTextFile(path), path));
    assert(metrics.includes(`gatehouse_config_info{sha256="${hex}"} 1`), metrics);
    const ready = await fetch(`http://127.0.0.1:${admin[1]}/readyz`);
    assertEquals([ready.status, (await ready.text()).split("\n")[0]], [200, "ready"]);
  } finally {
    child.kill("SIGTERM");
  }
  const status = await child.status;
  await child.stdout.cancel();
  await lines.done;
  assertEquals(status.code, 0, lines.seen.join("\n"));
});

Deno.test("start refuses an invalid config and exits 1 naming the error", async () => {
  const path = await tempConfig(
    "routing:\n  default:\n    strategy: round_robbin\n    backends: []\n",
  );
  const result = await startCommand(["--config", path]).output();
  assertEquals(result.code, 1);
  const stderr = new TextDecoder().decode(result.stderr);
  assertMatch(stderr, /3:15 routing\.default\.strategy: .*did you mean "round_robin"/);
  assert(!stderr.includes("listening"));
});

Deno.test("start exits 1 naming the admin address when it cannot be bound", async () => {
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const path = await tempConfig(`
listen: "127.0.0.1:0"
admin: { listen: "127.0.0.1:${taken.addr.port}" }
routing:
  default: { strategy: round_robin, backends: [{ host: a.internal, port: 5520 }] }
`);
  const result = await startCommand(["--config", path]).output();
  assertEquals(result.code, 1);
  const stderr = new TextDecoder().decode(result.stderr);
  assert(stderr.includes(`cannot listen on admin http 127.0.0.1:${taken.addr.port}`), stderr);
  assert(!stderr.includes("listening"));
});
