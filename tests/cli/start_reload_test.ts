/**
 * `start` as a subprocess with the task's permissions: the config file changing and SIGHUP
 * reload it, SIGTERM stops it gracefully with exit 0, and a second stop signal exits at once.
 */
import { assert, assertEquals } from "../support/assert.ts";
import { ChildLines } from "../support/child_lines.ts";
import { within } from "../support/deadline.ts";
import { parseConfig } from "../../src/config/mod.ts";
import { configFingerprint } from "../../src/config/fingerprint.ts";
import { run } from "../../src/cli/mod.ts";

const deno = JSON.parse(await Deno.readTextFile("deno.json"));
const [, ...startArgs] = (deno.tasks.start as string).split(" ");

const CONFIG = (host: string, extra = "") => `
listen: "127.0.0.1:0"
admin: { listen: "127.0.0.1:0" }
${extra}
routing:
  default: { strategy: round_robin, backends: [{ host: ${host}, port: 5520 }] }
`;

async function spawnStart(text: string, beforeListening?: (child: Deno.ChildProcess) => void) {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/config.yaml`;
  await Deno.writeTextFile(path, text);
  const child = new Deno.Command(Deno.execPath(), {
    args: [...startArgs, "--config", path],
    stdout: "null",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const lines = new ChildLines(child.stderr);
  // The admin endpoint opens before the router starts (and loads its plugins).
  const admin = Number((await lines.next(/admin endpoint addr=127\.0\.0\.1:(\d+)/))[1]);
  beforeListening?.(child);
  const port = Number((await lines.next(/listening addr=127\.0\.0\.1:(\d+)/))[1]);
  return { dir, path, child, lines, port, admin };
}

/** Saves `text` over `path` the way editors do: a new file renamed over the old one. */
async function save(path: string, text: string): Promise<void> {
  await Deno.writeTextFile(`${path}.tmp`, text);
  await Deno.rename(`${path}.tmp`, path);
}

/** The value of one metric line (name and labels as written), or `null` when absent. */
async function metric(adminPort: number, series: string): Promise<string | null> {
  const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? null : line.slice(series.length + 1);
}

/** The fingerprint `gatehouse_config_info` shows for a config text (secrets removed). */
function fingerprint(text: string): Promise<string> {
  return configFingerprint(parseConfig(text, "config.yaml"));
}

async function probeHost(port: number): Promise<string> {
  const out: string[] = [];
  const io = { out: (l: string) => out.push(l), err: () => {} };
  assertEquals(await run(["probe", `127.0.0.1:${port}`, "--sni", "any.example"], io), 0);
  return JSON.parse(out[0]!).host;
}

/** The child's exit status, or a failure naming `what` after `ms`. */
function exitWithin(child: Deno.ChildProcess, ms: number, what: string) {
  return within(child.status, ms, `${what}: still running`);
}

Deno.test("start reloads on file change and SIGHUP, keeps serving on a bad file, exits 0 on SIGTERM", async () => {
  const { dir, path, child, lines, port, admin } = await spawnStart(CONFIG("a.internal"));
  try {
    assertEquals(await probeHost(port), "a.internal");
    await save(path, CONFIG("b.internal"));
    await lines.next(/INFO +config reloaded config=\S+config\.yaml/);
    assertEquals(await probeHost(port), "b.internal");
    // The admin endpoint counts the reload and shows the new config's fingerprint.
    assertEquals(await metric(admin, 'gatehouse_config_reloads_total{result="ok"}'), "1");
    const sha = await fingerprint(CONFIG("b.internal"));
    assertEquals(await metric(admin, `gatehouse_config_info{sha256="${sha}"}`), "1");
    await save(path, CONFIG("c.internal").replace("round_robin", "round_robbin"));
    await lines.next(/ERROR reload error error=".*config\.yaml:6:24 routing\.default\.strategy/);
    await lines.next(/ERROR reload failed; still serving the previous config/);
    assertEquals(await probeHost(port), "b.internal");
    child.kill("SIGHUP"); // forces a reload of the same (still broken) text
    await lines.next(/ERROR reload failed; still serving the previous config/);
    await save(path, CONFIG("d.internal", 'listen: "127.0.0.1:1"').replace(/^listen.*:0"$/m, ""));
    await lines.next(/reload error error=".*listen changed \(127\.0\.0\.1:0 → 127\.0\.0\.1:1\)/);
    assertEquals(await probeHost(port), "b.internal");
    assertEquals(await metric(admin, 'gatehouse_config_reloads_total{result="failed"}'), "3");
  } finally {
    child.kill("SIGTERM");
  }
  const status = await exitWithin(child, 10_000, "graceful stop with nothing in flight");
  await lines.done;
  assertEquals(status.code, 0, lines.seen.join("\n"));
  assert(lines.seen.some((l) => /INFO +stopped/.test(l)), lines.seen.join("\n"));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a SIGHUP while the router starts does not kill it; it reloads once serving", async () => {
  const { dir, child, lines, port } = await spawnStart(
    CONFIG("a.internal"),
    (c) => c.kill("SIGHUP"),
  );
  try {
    // Whether the signal reached the router before or after it was listening, it reloads.
    await lines.next(/config reloaded config=\S+config\.yaml/);
    assertEquals(await probeHost(port), "a.internal");
  } finally {
    child.kill("SIGTERM");
  }
  assertEquals((await exitWithin(child, 10_000, "graceful stop")).code, 0, lines.seen.join("\n"));
  await lines.done;
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a second SIGTERM during the grace period exits at once with 143", async () => {
  const slow = "limits: { connect_timeout: 60s }";
  const { dir, child, lines, port } = await spawnStart(CONFIG("a.internal", slow));
  // A client that connects and never sends its Connect keeps the router's grace period busy.
  const idle = await Deno.connectQuic({
    hostname: "127.0.0.1",
    port,
    serverName: "play.example.com",
    alpnProtocols: ["hytale/2"],
  });
  try {
    await idle.createBidirectionalStream();
    child.kill("SIGTERM");
    await lines.next(/INFO +shutting down signal=SIGTERM in_flight=1 grace_ms=10000/);
    child.kill("SIGTERM");
    const status = await exitWithin(child, 5_000, "second SIGTERM");
    assertEquals(status.code, 143, lines.seen.join("\n"));
    await lines.done;
    assert(
      lines.seen.some((l) =>
        /WARN +second stop signal: exiting now signal=SIGTERM code=143/.test(l)
      ),
    );
  } finally {
    idle.close();
    await Deno.remove(dir, { recursive: true });
  }
});
