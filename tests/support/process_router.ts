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
  return (await procFile(pid, "cmdline") ?? "").split("\0").filter((a) => a !== "");
}

/**
 * `/proc/PID/FILE` as text, or null when there is no such process. Read through `cat`: Deno asks
 * for --allow-all to read `/proc` itself, which the test task does not grant.
 */
export async function procFile(pid: number, file: string): Promise<string | null> {
  const out = await new Deno.Command("cat", { args: [`/proc/${pid}/${file}`], stderr: "null" })
    .output();
  return out.success ? new TextDecoder().decode(out.stdout) : null;
}

/** Whether process `pid` exists (a zombie not yet reaped included). */
export async function processExists(pid: number): Promise<boolean> {
  return await procFile(pid, "stat") !== null;
}

/** Whether `pid` is a running process: a zombie no one has reaped yet counts as gone. */
export async function isRunning(pid: number): Promise<boolean> {
  const stat = await procFile(pid, "stat");
  if (stat === null) return false;
  return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
}

/**
 * Whether `present(pid)` turns false within `ms`, polled every 10 ms: a process that is not the
 * test's child (or whose exit its parent keeps to itself) ends with no event a test could await.
 */
export async function endsWithin(
  pid: number,
  present: (pid: number) => Promise<boolean>,
  ms = 2000,
): Promise<boolean> {
  const until = performance.now() + ms;
  while (await present(pid)) {
    if (performance.now() > until) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}

/** Threads of process `pid` (`Threads:` of its status). */
export async function threadCount(pid: number): Promise<number> {
  const status = await procFile(pid, "status") ?? "";
  const threads = Number(/^Threads:\s+(\d+)/m.exec(status)?.[1]);
  if (!Number.isInteger(threads)) throw new Error(`no thread count for process ${pid}`);
  return threads;
}
