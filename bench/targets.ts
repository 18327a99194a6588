/**
 * The two servers the benchmark compares, each started as its own process: the bare QUIC
 * server (`bench/bare_server.ts`) and Gatehouse (`src/cli/main.ts start`), as in production.
 *
 * @module
 */

import { parse as parseYaml } from "yaml";
import type { Child, ChildGroup } from "./children.ts";

/** A server under test, running. */
export interface Target {
  readonly name: "bare" | "gatehouse";
  readonly hostname: string;
  readonly port: number;
  /** The process started (for Gatehouse: the `start` launcher). */
  readonly child: Child;
  /** The process serving (for Gatehouse: the router the launcher started); for CPU and RSS. */
  readonly pid: number;
}

/** How long a server may take to start (the self-signed certificate takes ~100 ms). */
const START_TIMEOUT_MS = 30_000;
const POLL_MS = 50;

/** The entry point `deno task start` runs. */
const MAIN = "src/cli/main.ts";

/** Used when `deno.json`'s `start` task cannot be read; they match it at the time of writing. */
const FALLBACK_START_FLAGS = [
  "--no-prompt",
  "--allow-read",
  "--allow-run",
  "--allow-env=LOG_TOKENS,LOG_STREAM,READABLE_STREAM,KUBERNETES_SERVICE_HOST,KUBERNETES_SERVICE_PORT",
];

/**
 * The `deno run` flags of the `start` task in `deno.json`, so that the benchmark runs Gatehouse
 * exactly as production does (`deno run <flags> src/cli/main.ts start`).
 */
async function startTaskFlags(root: string): Promise<string[]> {
  try {
    const config = JSON.parse(await Deno.readTextFile(`${root}/deno.json`));
    const words = String(config?.tasks?.start ?? "").trim().split(/\s+/);
    const main = words.indexOf(MAIN);
    if (words[0] === "deno" && words[1] === "run" && main > 1) return words.slice(2, main);
  } catch {
    // Fall back to the known flags.
  }
  return FALLBACK_START_FLAGS;
}

/** Starts `bench/bare_server.ts` on a free port and waits for its `{"port":N}` line. */
export async function startBare(group: ChildGroup, root: string): Promise<Target> {
  const { promise: portLine, resolve } = Promise.withResolvers<string>();
  const child = group.spawn(
    ["run", "--unstable-net", "--no-prompt", "--allow-net=127.0.0.1", "bench/bare_server.ts"],
    root,
    (line) => resolve(line),
  );
  const line = await untilReady(child, "bare server", portLine);
  const port = (JSON.parse(line) as { port?: unknown }).port;
  if (typeof port !== "number") throw new Error(`bare server printed ${line}, expected {"port":N}`);
  return { name: "bare", hostname: "127.0.0.1", port, child, pid: child.pid };
}

/**
 * Starts Gatehouse with `configPath` (absolute) at log level warn, with the `start` task's
 * flags, and waits until its UDP port is bound. The port is read from the config;
 * it must be free before the start, so that "bound" means "bound by Gatehouse".
 */
export async function startGatehouse(
  group: ChildGroup,
  root: string,
  configPath: string,
): Promise<Target> {
  const { hostname, port } = await listenAddressOf(configPath);
  if (udpPortBound(hostname, port)) {
    throw new Error(
      `udp ${hostname}:${port} (listen in ${configPath}) is already in use; ` +
        `pass --config with a copy that listens on a free port`,
    );
  }
  const flags = await startTaskFlags(root);
  const args = ["run", ...flags, MAIN, "start", "--config", configPath, "--log-level", "warn"];
  const child = group.spawn(args, root, () => {});
  await untilReady(child, "gatehouse", pollUntilBound(hostname, port, child));
  return { name: "gatehouse", hostname, port, child, pid: await servingPid(child.pid) };
}

/**
 * The process that serves: `start` is a launcher that runs the router as its only child (see
 * src/cli/launch.ts), so this follows single children down from `pid` (`pgrep -P`) until the
 * router (`src/cli/main.ts` with a command other than `start`). It stops there: a router's own
 * children (a process plugin, a process-isolated WASM host) are not the server.
 */
export async function servingPid(pid: number): Promise<number> {
  for (let depth = 0; depth < 4 && !(await isRouter(pid)); depth++) {
    const out = await new Deno.Command("pgrep", { args: ["-P", String(pid)], stderr: "null" })
      .output().catch(() => null);
    const kids = out ? new TextDecoder().decode(out.stdout).trim().split(/\s+/) : [];
    if (kids.length !== 1 || kids[0] === "") return pid;
    pid = Number(kids[0]);
  }
  return pid;
}

/**
 * Whether `pid` runs `src/cli/main.ts` but not its launcher `start` (`/proc/<pid>/cmdline`, read
 * with `cat`: Deno wants --allow-all to read `/proc/<pid>/cmdline` itself).
 */
async function isRouter(pid: number): Promise<boolean> {
  const out = await new Deno.Command("cat", { args: [`/proc/${pid}/cmdline`], stderr: "null" })
    .output().catch(() => null);
  const argv = out?.success ? new TextDecoder().decode(out.stdout).split("\0") : [];
  const main = argv.findIndex((arg) => arg.endsWith(MAIN));
  return main >= 0 && argv[main + 1] !== "start";
}

/** Waits for `ready`, failing if the child exits first or it takes too long. */
async function untilReady<T>(child: Child, what: string, ready: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} not ready after ${START_TIMEOUT_MS} ms`)),
      START_TIMEOUT_MS,
    );
  });
  const exited = child.exited.then((code): never => {
    throw new Error(`${what} exited with code ${code}:\n${child.stderrTail.join("\n")}`);
  });
  try {
    return await Promise.race([ready, exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function pollUntilBound(hostname: string, port: number, child: Child): Promise<void> {
  while (!child.hasExited()) {
    if (udpPortBound(hostname, port)) return;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/**
 * Whether something holds UDP `hostname:port`. Gatehouse binds its endpoint and starts
 * listening in the same synchronous step, so once the port is taken it accepts connections.
 */
function udpPortBound(hostname: string, port: number): boolean {
  try {
    Deno.listenDatagram({ transport: "udp", hostname, port }).close();
    return false;
  } catch (err) {
    if (err instanceof Deno.errors.AddrInUse) return true;
    throw err;
  }
}

/** The `listen` address of a Gatehouse config (it must name a host and a non-zero port). */
async function listenAddressOf(path: string): Promise<{ hostname: string; port: number }> {
  const doc = parseYaml(await Deno.readTextFile(path)) as { listen?: unknown } | null;
  const listen = typeof doc?.listen === "string" ? doc.listen : "";
  const m = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(listen);
  if (!m || Number(m[2]) === 0) {
    throw new Error(
      `${path}: listen must be "IPv4:PORT" with a fixed port for the benchmark, got ${
        JSON.stringify(listen)
      }`,
    );
  }
  return { hostname: m[1]!, port: Number(m[2]) };
}
