/**
 * Child processes of the benchmark: every process it starts is tracked here so that all of them
 * are killed at the end, whatever happened (error, Ctrl-C, SIGTERM).
 *
 * @module
 */

/** Lines of a child's output kept for error messages. */
const TAIL_LINES = 40;

/** A tracked child whose stdout/stderr are read line by line in the background. */
export interface Child {
  readonly process: Deno.ChildProcess;
  readonly pid: number;
  /** The last lines written to stderr. */
  readonly stderrTail: string[];
  /** Resolves with the exit code once the process has exited. */
  readonly exited: Promise<number>;
  /** Whether the process has exited. */
  hasExited(): boolean;
}

/** Owns the child processes of one benchmark run. */
export class ChildGroup {
  readonly #live = new Set<Child>();

  /**
   * Starts `deno` with `args` in `cwd`. `onStdoutLine` sees each stdout line as it arrives;
   * stderr is kept as a tail. stdin stays open until the child is stopped.
   */
  spawn(args: readonly string[], cwd: string, onStdoutLine: (line: string) => void): Child {
    const process = new Deno.Command(Deno.execPath(), {
      args: [...args],
      cwd,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stderrTail: string[] = [];
    forEachLine(process.stdout, onStdoutLine);
    forEachLine(process.stderr, (line) => {
      stderrTail.push(line);
      if (stderrTail.length > TAIL_LINES) stderrTail.shift();
    });
    let done = false;
    const exited = process.status.then((s) => {
      done = true;
      return s.code;
    });
    const child: Child = { process, pid: process.pid, stderrTail, exited, hasExited: () => done };
    this.#live.add(child);
    exited.finally(() => this.#live.delete(child));
    return child;
  }

  /**
   * Stops `child`: closes its stdin, sends SIGTERM, and SIGKILL if it is still running after
   * `graceMs`. Resolves once it has exited.
   */
  async stop(child: Child, graceMs: number): Promise<void> {
    if (child.hasExited()) return;
    await child.process.stdin.close().catch(() => {});
    signal(child, "SIGTERM");
    const timer = setTimeout(() => signal(child, "SIGKILL"), graceMs);
    try {
      await child.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops every child still running, in parallel. */
  async stopAll(graceMs: number): Promise<void> {
    await Promise.all([...this.#live].map((c) => this.stop(c, graceMs)));
  }

  /** Kills every child still running at once (for the exit path of a signal handler). */
  killAllNow(): void {
    for (const child of this.#live) signal(child, "SIGKILL");
  }
}

function signal(child: Child, sig: Deno.Signal): void {
  try {
    child.process.kill(sig);
  } catch {
    // Exited in the meantime.
  }
}

/** Reads `stream` to its end in the background, calling `onLine` for each line. */
function forEachLine(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): void {
  (async () => {
    let rest = "";
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      const parts = (rest + text).split("\n");
      rest = parts.pop() ?? "";
      for (const line of parts) onLine(line);
    }
    if (rest !== "") onLine(rest);
  })().catch(() => {});
}
