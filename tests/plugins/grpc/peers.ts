/**
 * Test peers for the gRPC client: the Go peer from ../shared/peers/grpc-go (built by
 * .ci/setup_grpc.sh) and the grpc-js example plugin, each run as a child process on a free
 * 127.0.0.1 port and stopped by the test that started it.
 */

import type { Requirement } from "../../support/requires.ts";

const HOME = Deno.env.get("HOME") ?? "/root";
/** Where .ci/setup_grpc.sh puts the Go peer's binaries. */
export const PEER_DIR = Deno.env.get("GRPCPEER_DIR") ??
  `${Deno.env.get("XDG_CACHE_HOME") ?? `${HOME}/.cache`}/gatehouse/grpcpeer`;
export const GRPCPEER = `${PEER_DIR}/grpcpeer`;
export const GRPCPEER_GOCLIENT = `${PEER_DIR}/grpcpeer-goclient`;

/** Whether the Go peer is built (CI: yes; a dev machine may not have Go). */
const HAVE_GO_PEER = isFile(GRPCPEER) && isFile(GRPCPEER_GOCLIENT);
/** What tests that need the Go peer require (see `testRequiring`). */
export const GO_PEER: Requirement = {
  available: HAVE_GO_PEER,
  install: "bash .ci/setup_grpc.sh (builds the Go peer grpcpeer)",
};

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** A child process that prints a line containing `readyText` once it serves. */
export class ServerProcess {
  readonly port: number;
  readonly #child: Deno.ChildProcess;
  readonly #stderrDone: Promise<void>;
  #log = "";

  private constructor(child: Deno.ChildProcess, port: number, onLine: (log: string) => void) {
    this.#child = child;
    this.port = port;
    this.#stderrDone = (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of child.stderr) {
        this.#log += decoder.decode(chunk, { stream: true });
        onLine(this.#log);
      }
    })();
  }

  /** Starts `command args` and resolves once its stderr shows `readyText`. */
  static async start(
    command: string,
    args: string[],
    port: number,
    readyText: string,
  ): Promise<ServerProcess> {
    const child = new Deno.Command(command, { args, stdout: "null", stderr: "piped" }).spawn();
    const { promise: ready, resolve } = Promise.withResolvers<boolean>();
    const server = new ServerProcess(child, port, (log) => {
      if (log.includes(readyText)) resolve(true);
    });
    child.status.then(() => resolve(false));
    if (!(await ready)) {
      await server.#stderrDone;
      throw new Error(`${command} exited before serving:\n${server.#log}`);
    }
    return server;
  }

  /** `127.0.0.1:port`. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Sends `signal` and waits for the process to end; returns its status and log. */
  async stop(
    signal: Deno.Signal = "SIGKILL",
  ): Promise<{ status: Deno.CommandStatus; log: string }> {
    try {
      this.#child.kill(signal);
    } catch {
      // already exited
    }
    const status = await this.#child.status;
    await this.#stderrDone;
    return { status, log: this.#log };
  }
}

/** Starts the Go peer (`grpcpeer -listen 127.0.0.1:port [extra]`). */
export function startGoPeer(port = freePort(), extra: string[] = []): Promise<ServerProcess> {
  return ServerProcess.start(
    GRPCPEER,
    ["-listen", `127.0.0.1:${port}`, ...extra],
    port,
    "grpcpeer listening on",
  );
}

/** Starts the grpc-js example plugin (plugins/grpc-example/server.ts) in its own Deno process. */
export function startExampleServer(port = freePort()): Promise<ServerProcess> {
  const server = new URL("../../../plugins/grpc-example/server.ts", import.meta.url).pathname;
  return ServerProcess.start(
    Deno.execPath(),
    [
      "run",
      "--no-prompt",
      "--allow-net=127.0.0.1",
      "--allow-read",
      "--allow-env",
      server,
      "--listen",
      `127.0.0.1:${port}`,
    ],
    port,
    "grpc-example listening on",
  );
}

/** Runs the Go peer's reference client once; returns its stdout (the response JSON). */
export async function goClientCall(address: string, extra: string[] = []): Promise<string> {
  const out = await new Deno.Command(GRPCPEER_GOCLIENT, {
    args: ["-addr", address, ...extra],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  if (!out.success) throw new Error(`goclient failed: ${text.decode(out.stderr)}`);
  return text.decode(out.stdout).trim();
}
