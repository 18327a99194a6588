/**
 * What `start` grants the router for process plugins (docs/plugins.md §7): run on exactly each
 * program, read and write on each plugin's socket folder, net on each exact socket, env PATH —
 * and that those grants are what Deno needs to reach a plugin's socket. The launcher kills the
 * router's whole process group once the router is gone, so a plugin process never outlives it.
 */
import { dirname } from "node:path";
import { parseConfig } from "../../src/config/mod.ts";
import { computeGrants, permissionFlags } from "../../src/cli/sandbox.ts";
import { runLauncher } from "../../src/cli/launch.ts";
import { assert, assertEquals } from "../support/assert.ts";
import { ChildLines } from "../support/child_lines.ts";
import { within } from "../support/deadline.ts";
import { parseDisconnect } from "../support/hytale_client_codec.ts";
import {
  commandLine,
  endsWithin,
  isRunning,
  onlyChildPid,
  startRouterProcess,
} from "../support/process_router.ts";
import { socketGrants } from "../support/process_driver.ts";
import { askConnect } from "../support/router_harness.ts";
import { startTaskFlags } from "../support/start_task.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const SOURCE = "/etc/gh/config.yaml";
const CTX = { cwd: "/", workerSourceDir: null, execPath: "/opt/deno/bin/deno" };
const ROUTING = `listen: "127.0.0.1:5520"
admin: { listen: "" }
routing: { default: { strategy: round_robin, backends: [{ host: a.internal, port: 5520 }] } }
`;

/**
 * A process listening on `socket` (the test's own flags cannot grant it), printing what
 * connections send; `close` stops it.
 */
async function listenOn(socket: string): Promise<ChildLines & { close(): Promise<void> }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-prompt",
      ...socketGrants(socket),
      new URL("./unix_listener.ts", import.meta.url).pathname,
      socket,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = new ChildLines(child.stdout);
  await lines.next(/^listening$/, 10_000);
  return Object.assign(lines, {
    close: async () => {
      child.kill("SIGKILL");
      await child.status;
      await lines.done;
    },
  });
}

/** The socket folder of plugin `name` of the config at `source`, as the loader names it. */
function socketDirOf(source: string, text: string, name: string): string {
  const plugin = parseConfig(text, source).plugins.find((p) => p.name === name);
  assert(plugin?.type === "process", `no process plugin ${name}`);
  return plugin.process.socketDir;
}

Deno.test("sandbox grants: process plugins get run on their program, their socket folder and socket, env PATH", () => {
  const text = `${ROUTING}plugins:
  - { name: guard, type: process, process: { command: [./bin/guard, --strict] } }
  - { name: gobare, type: process, process: { command: [go, run, ./x.go] } }
  - name: mod
    type: process
    process:
      module: ./mod.ts
      permissions: { net: ["10.0.0.5:6379"], read: [/srv/bans.txt], env: [GUARD_KEY] }
  - { name: mod2, type: process, process: { module: /srv/other.ts } }
discovery:
  providers:
    - { name: lobbies, type: plugin, plugin: { name: guard } }
`;
  const config = parseConfig(text, SOURCE);
  const dir = (name: string) => socketDirOf(SOURCE, text, name);
  const grants = computeGrants(config, SOURCE, CTX);
  const dirs = ["guard", "gobare", "mod", "mod2"].map(dir);
  // The command's program as resolved at load, a bare name as such (Deno resolves it on the
  // router's PATH), Deno for the modules (once).
  assertEquals(grants.run, ["/etc/gh/bin/guard", "go", "/opt/deno/bin/deno"]);
  // Read on the shared base folder too: the router checks it is private before using it.
  assertEquals(grants.read, ["/etc/gh", dirname(dirs[0]!), ...dirs]);
  assertEquals(grants.write, dirs);
  // A module's own permissions are its child's, never the router's.
  assertEquals(grants.net, ["127.0.0.1:5520", ...dirs.map((d) => `unix:${d}/plugin.sock`)]);
  assertEquals(grants.env, [
    "LOG_TOKENS",
    "LOG_STREAM",
    "READABLE_STREAM",
    "POD_NAME",
    "HOSTNAME",
    "PATH",
    "DENO_DIR",
  ]);
  assertEquals(permissionFlags(grants), [
    "--unstable-net",
    "--unstable-worker-options",
    "--no-prompt",
    `--allow-read=/etc/gh,${dirname(dirs[0]!)},${dirs.join(",")}`,
    `--allow-write=${dirs.join(",")}`,
    `--allow-net=127.0.0.1:5520,${dirs.map((d) => `unix:${d}/plugin.sock`).join(",")}`,
    "--allow-env=LOG_TOKENS,LOG_STREAM,READABLE_STREAM,POD_NAME,HOSTNAME,PATH,DENO_DIR",
    "--allow-run=/etc/gh/bin/guard,go,/opt/deno/bin/deno",
  ]);
});

Deno.test("sandbox grants: no write, no PATH and no run without process plugins", () => {
  const grants = computeGrants(parseConfig(ROUTING, SOURCE), SOURCE, CTX);
  assertEquals(grants.write, []);
  assertEquals(grants.run, []);
  assertEquals(grants.env, ["LOG_TOKENS", "LOG_STREAM", "READABLE_STREAM", "POD_NAME", "HOSTNAME"]);
  assert(!permissionFlags(grants).some((f) => f.startsWith("--allow-write")));
});

Deno.test("Deno 2.9.6: a Unix socket connect needs read, write and net unix:PATH on the exact path", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "gatehouse-grants-" });
  const source = `${tmp}/config.yaml`;
  const text = `${ROUTING}plugins:\n  - { name: p, type: process, process: { command: [./p] } }\n`;
  const socketDir = socketDirOf(source, text, "p");
  await Deno.mkdir(socketDir, { recursive: true, mode: 0o700 });
  const socket = `${socketDir}/plugin.sock`;
  const listener = await listenOn(socket);
  try {
    const flags = permissionFlags(computeGrants(parseConfig(text, source), source, CTX))
      .filter((f) => /^--allow-(read|write|net)=/.test(f));
    assertEquals(flags.length, 3);
    const connect = async (flags: string[]) => {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "--no-prompt", ...flags, "tests/cli/unix_connect_probe.ts", socket],
        stderr: "inherit",
      }).output();
      return new TextDecoder().decode(out.stdout).trim();
    };
    assertEquals(await connect(flags), "ok");
    // Each of the three is needed: without any one, the connect is refused.
    for (const dropped of flags) {
      assertEquals(await connect(flags.filter((f) => f !== dropped)), "NotCapable", dropped);
    }
    // The net entry must be the socket itself: its folder does not match.
    const folderNet = flags.map((f) =>
      f.startsWith("--allow-net=") ? `--allow-net=unix:${socketDir}` : f
    );
    assertEquals(await connect(folderNet), "NotCapable");
  } finally {
    await listener.close();
    await Deno.remove(socketDir.slice(0, socketDir.lastIndexOf("/")), { recursive: true });
    await Deno.remove(tmp, { recursive: true });
  }
});

const running = isRunning;

/**
 * Whether `pid` stops running within 2 s. Polled: the process is not the test's child, so its
 * end is no event the test could await.
 */
const stops = (pid: number) => endsWithin(pid, running);

Deno.test("start: a router killed with SIGKILL leaves no plugin process: the launcher kills its process group", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "gatehouse-group-" });
  const source = `${tmp}/config.yaml`;
  const text =
    `${ROUTING}plugins:\n  - { name: p, type: process, process: { command: [sleep, "60"] } }\n`;
  await Deno.writeTextFile(source, text);
  const socketDir = socketDirOf(source, text, "p");
  await Deno.mkdir(socketDir, { recursive: true, mode: 0o700 });
  const socket = `${socketDir}/plugin.sock`;
  const listener = await listenOn(socket);
  let plugin = 0;
  try {
    const errors: string[] = [];
    const io = { out: () => {}, err: (l: string) => void errors.push(l) };
    const location = {
      entry: new URL("./orphaning_router.ts", import.meta.url).pathname,
      workerSourceDir: null,
      runFlags: ["--no-config"],
    };
    // The stand-in router gets exactly the config's grants: run on `sleep`, the socket's.
    const launcher = runLauncher(source, ["--config", source, socket], io, location);
    const [, router, child] = await listener.next(/^(\d+) (\d+)$/, 10_000);
    plugin = Number(child);
    assert(await running(plugin), "the plugin process runs");
    Deno.kill(Number(router), "SIGKILL");
    assertEquals(await within(launcher, 10_000, "the launcher returns"), 137);
    assertEquals(errors, []);
    assert(await stops(plugin), `plugin process ${plugin} outlived the router`);
  } finally {
    await listener.close();
    if (plugin !== 0 && await running(plugin)) Deno.kill(plugin, "SIGKILL");
    await Deno.remove(socketDir.slice(0, socketDir.lastIndexOf("/")), { recursive: true });
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("start: a module process plugin answers under exactly the computed grants, and stops with the router", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gatehouse-process-start-" });
  await Deno.writeTextFile(`${dir}/bans.txt`, "Krymo\n");
  const source = `${dir}/config.yaml`;
  const text = `listen: "127.0.0.1:0"
admin: { listen: "" }
routing: { default: { strategy: round_robin, backends: [{ host: a.internal, port: 5520 }] } }
plugins:
  - name: guard
    type: process
    stage: deny
    timeout: 2s
    process:
      module: ${ROOT}plugins/process-example/main.ts
      permissions: { read: [./bans.txt] }
      config: { ban_list: ${dir}/bans.txt, ban_reason: "banned by a process plugin", lobbies: ["10.0.0.1:5520"] }
`;
  await Deno.writeTextFile(source, text);
  const socketDir = socketDirOf(source, text, "guard");
  const router = await startRouterProcess(
    ["run", ...await startTaskFlags(), "src/cli/main.ts", "start", "--config", source],
    ROOT,
  );
  let plugin = 0;
  try {
    // Twice: the hook connection made after start (when `serve` drops what it does not need)
    // works as well as the first.
    for (let i = 0; i < 2; i++) {
      const reply = await askConnect(router.port, "play.example.com", "Krymo");
      assertEquals(parseDisconnect(reply.payload).reason, "banned by a process plugin");
    }
    const routerPid = await onlyChildPid(router.pid);
    const flags = (await commandLine(routerPid)).filter((a) => a.startsWith("--allow"));
    assertEquals(flags, [
      `--allow-read=${dir},${dirname(socketDir)},${socketDir},${ROOT}src/plugins/wasm`,
      `--allow-write=${socketDir}`,
      `--allow-net=127.0.0.1,unix:${socketDir}/plugin.sock`,
      "--allow-env=LOG_TOKENS,LOG_STREAM,READABLE_STREAM,POD_NAME,HOSTNAME,PATH,DENO_DIR",
      `--allow-run=${Deno.execPath()}`,
    ]);
    // The plugin's Deno holds its socket and its ban list, nothing else.
    plugin = await onlyChildPid(routerPid);
    const child = (await commandLine(plugin)).filter((a) => a.startsWith("--allow"));
    assertEquals(child, [
      `--allow-read=${socketDir}/plugin.sock,${dir}/bans.txt`,
      `--allow-write=${socketDir}/plugin.sock`,
      `--allow-net=unix:${socketDir}/plugin.sock`,
    ]);
  } finally {
    const code = await router.stop("SIGTERM");
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(socketDir.slice(0, socketDir.lastIndexOf("/")), { recursive: true });
    assertEquals(code, 0);
    assert(plugin === 0 || await stops(plugin), `plugin process ${plugin} outlived the router`);
  }
});
