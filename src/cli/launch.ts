/**
 * `start`: a small launcher. It loads the config, computes the router's exact permissions
 * (`sandbox.ts`) and runs `deno run <exact flags> <this program> serve <same arguments>` as a
 * child, forwarding SIGHUP/SIGTERM/SIGINT and returning the child's exit code. The launcher
 * itself needs read (the config) and run (Deno's own executable); the router never gets more
 * than the config asks for.
 *
 * The router runs in a process group of its own, which the launcher kills (SIGKILL) once the
 * router has exited: whatever the router started and left behind — a plugin process, when the
 * router was killed with SIGKILL and could not stop it — dies with it.
 */
import { fileURLToPath as fromFileUrl } from "node:url";
import type { CommandIO } from "./check.ts";
import { loadConfigOrReport } from "./check.ts";
import { computeGrants, permissionFlags, SandboxError } from "./sandbox.ts";

/**
 * V8 flags of the router: `gc` lets it collect the wrappers of ended QUIC connections, whose
 * native state V8 cannot see (`server/churn_collector.ts`).
 */
const ROUTER_V8_FLAGS: readonly string[] = ["--v8-flags=--expose-gc"];

/** Signals passed on to the router (SIGHUP: reload). */
const FORWARDED: readonly Deno.Signal[] = ["SIGHUP", "SIGINT", "SIGTERM"];

/** How the program was started, which decides what the child runs. */
export interface ProgramLocation {
  /** The module `deno run` starts for `serve`: `src/cli/main.ts`, or the bundle itself. */
  readonly entry: string;
  /** The WASM worker's source directory when it is loaded from files; `null` in a bundle. */
  readonly workerSourceDir: string | null;
  /** Extra `deno run` flags: a bundle needs no `deno.json` (and must not pick one up). */
  readonly runFlags: readonly string[];
}

/**
 * Where this program runs from. From source, this file is `src/cli/launch.ts` and the entry is
 * `main.ts` beside it; in the one-file bundle every module's `import.meta.url` is the bundle's.
 */
export function programLocation(moduleUrl: string = import.meta.url): ProgramLocation {
  if (moduleUrl.endsWith("/src/cli/launch.ts")) {
    return {
      entry: fromFileUrl(new URL("./main.ts", moduleUrl)),
      workerSourceDir: fromFileUrl(new URL("../plugins/wasm", moduleUrl)),
      runFlags: [],
    };
  }
  return { entry: fromFileUrl(moduleUrl), workerSourceDir: null, runFlags: ["--no-config"] };
}

/**
 * Whether this is a `deno compile` binary (its modules live under a `deno-compile-` root). A
 * binary's permissions are fixed when it is compiled and it cannot run `deno run`, so `start`
 * serves in-process there.
 */
export function isCompiledBinary(moduleUrl: string = import.meta.url): boolean {
  return moduleUrl.includes("/deno-compile-");
}

/** Tells `serve` that its stdin is the launcher's lifeline (`signals.ts`). */
export const LIFELINE_FLAG = "--lifeline-stdin";

/**
 * Runs the router sandboxed. `configPath` is the `--config` value; `serveArgs` are the
 * arguments `serve` gets (the same as `start`'s).
 */
export function runLauncher(
  configPath: string,
  serveArgs: readonly string[],
  io: CommandIO,
  location: ProgramLocation = programLocation(),
): Promise<number> {
  return runSandboxed(configPath, ["serve", LIFELINE_FLAG, ...serveArgs], io, location);
}

/**
 * Runs this program's command `commandArgs` (command name first) in a child holding exactly the
 * permissions the config at `configPath` needs, as `start` runs `serve`; `explain` runs its
 * offline decision this way too. Returns the child's exit code, or 1 when the config does not
 * load (its errors printed as `check` prints them).
 */
export async function runSandboxed(
  configPath: string,
  commandArgs: readonly string[],
  io: CommandIO,
  location: ProgramLocation = programLocation(),
): Promise<number> {
  const config = await loadConfigOrReport(configPath, io);
  if (!config) return 1;
  let flags: string[];
  try {
    const grants = computeGrants(config, configPath, {
      cwd: Deno.cwd(),
      workerSourceDir: location.workerSourceDir,
    });
    flags = permissionFlags(grants);
  } catch (err) {
    if (!(err instanceof SandboxError)) throw err;
    io.err(`gatehouse: ${err.message}`);
    return 1;
  }
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...location.runFlags,
      ...ROUTER_V8_FLAGS,
      ...flags,
      location.entry,
      ...commandArgs,
    ],
    // Never written and never closed: `serve --lifeline-stdin` sees it end only when this
    // process is gone (`signals.ts`), so a launcher killed with SIGKILL leaves no router behind.
    stdin: "piped",
    stdout: "inherit",
    stderr: "inherit",
    // Its own process group (Deno: setsid, so the group id is its pid): a terminal's Ctrl-C
    // reaches the launcher only, which passes it on once (a second SIGINT would end the router
    // before its graceful shutdown); and the launcher can kill the whole group once the router
    // is gone (superviseChild).
    detached: true,
  }).spawn();
  return await superviseChild(child);
}

/**
 * Forwards signals to `child` until it exits, then kills what is left of its process group;
 * returns its exit code (128 + n for signal n). `child` must lead its own group (`detached`).
 */
export async function superviseChild(child: Deno.ChildProcess): Promise<number> {
  const handlers = FORWARDED.map((signal) => {
    const handler = () => {
      try {
        child.kill(signal);
      } catch {
        // Exited in the meantime.
      }
    };
    Deno.addSignalListener(signal, handler);
    return () => Deno.removeSignalListener(signal, handler);
  });
  try {
    const status = await child.status;
    killGroup(child.pid);
    return status.code;
  } finally {
    for (const remove of handlers) remove();
  }
}

/**
 * SIGKILLs every process left in group `pgid`. Processes a router started stay in its group
 * (unless they leave it themselves), so none outlives it. An empty group (the usual case, after
 * a clean shutdown) is no error.
 */
function killGroup(pgid: number): void {
  try {
    Deno.kill(-pgid, "SIGKILL");
  } catch {
    // ESRCH: nothing left.
  }
}
