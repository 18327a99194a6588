/**
 * Starts the router as a real process (`deno run … start`, or the bundle) and waits for its
 * "listening" log line; used by tests of the launcher and the one-file build.
 */

/** A router process under test. */
export interface RouterProcess {
  /** The started process (the `start` launcher). */
  readonly pid: number;
  /** The bound UDP port, from the "listening" line. */
  readonly port: number;
  /** Every stderr line so far (JSON log lines with `--log-format json`). */
  readonly lines: string[];
  /** Sends `signal` and resolves with the exit code (SIGKILL after `graceMs`). */
  stop(signal?: Deno.Signal, graceMs?: number): Promise<number>;
}

const READY_TIMEOUT_MS = 60_000;

/**
 * Runs `deno <args>` in `cwd` (the args must end with `--log-format json` or otherwise make the
 * router log `listening` with `addr=HOST:PORT` / `"addr":"HOST:PORT"`).
 */
export async function startRouterProcess(args: string[], cwd: string): Promise<RouterProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  const { promise: ready, resolve, reject } = Promise.withResolvers<number>();
  const timer = setTimeout(
    () => reject(new Error(`no "listening" line:\n${lines.join("\n")}`)),
    READY_TIMEOUT_MS,
  );
  (async () => {
    let rest = "";
    for await (const text of child.stderr.pipeThrough(new TextDecoderStream())) {
      const parts = (rest + text).split("\n");
      rest = parts.pop() ?? "";
      for (const line of parts) {
        lines.push(line);
        const m = /listening.*addr"?[=:]"?[^\s"]*:(\d+)/.exec(line);
        if (m) resolve(Number(m[1]));
      }
    }
    reject(new Error(`router exited before listening:\n${lines.join("\n")}`));
  })().catch(reject);
  const status = child.status;
  let port: number;
  try {
    port = await ready;
  } catch (err) {
    try {
      child.kill("SIGKILL");
    } catch { /* exited */ }
    await status;
    throw err;
  } finally {
    clearTimeout(timer);
  }
  return {
    pid: child.pid,
    port,
    lines,
    async stop(signal: Deno.Signal = "SIGTERM", graceMs = 10_000) {
      try {
        child.kill(signal);
      } catch { /* exited */ }
      const kill = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch { /* exited */ }
      }, graceMs);
      try {
        return (await status).code;
      } finally {
        clearTimeout(kill);
      }
    },
  };
}

/** The only child of `pid` (`pgrep -P`), e.g. the router a `start` launcher runs. */
export async function onlyChildPid(pid: number): Promise<number> {
  const out = await new Deno.Command("pgrep", { args: ["-P", String(pid)] }).output();
  const kids = new TextDecoder().decode(out.stdout).trim().split(/\s+/).filter((k) => k !== "");
  if (kids.length !== 1) throw new Error(`expected one child of ${pid}, found ${kids.join(",")}`);
  return Number(kids[0]);
}

/** The command line of process `pid` (`/proc/PID/cmdline`, read with `cat`). */
export async function commandLine(pid: number): Promise<string[]> {
  const out = await new Deno.Command("cat", { args: [`/proc/${pid}/cmdline`] }).output();
  return new TextDecoder().decode(out.stdout).split("\0").filter((a) => a !== "");
}
