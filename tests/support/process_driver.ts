/**
 * The router's side of the process plugin contract (docs/plugins.md §7), written independently of
 * both the router (`src/plugins/process/`) and the authoring kit (`plugins/process-kit/`), so that
 * tests of either do not check the code against itself: starts a plugin with a clean environment,
 * sends `configure` with a socket path in a fresh temporary folder, waits for the answer and
 * `ready`, and speaks the hooks' length-prefixed msgpack frames on that socket. Keys are the
 * wire's short ones (`u`, `rs`, …): a test spells the contract out.
 */
import { decode, encode } from "@msgpack/msgpack";
import { ChildLines, Lines } from "./child_lines.ts";

/** Hook types of the envelope. */
export const ON_CONNECT = 3;
export const ON_DISCONNECT = 4;

/** A JSON object or msgpack map as received. */
export type Message = Record<string, unknown>;

/** How to start a plugin under test. */
export interface PluginStart {
  /** argv; given the socket path, since Deno needs it in the permission flags. */
  readonly command: (socket: string) => string[];
  /** `configure.params.config` of the first configure. */
  readonly config: Message;
  /** Besides PATH, the child's whole environment (nothing leaks from the test's). */
  readonly env?: Record<string, string>;
  readonly cwd?: string;
}

const encoder = new TextEncoder();
const RELAY = new URL("./unix_relay.ts", import.meta.url).pathname;

/**
 * The environment the router adds for a `module` plugin: `DENO_DIR` when it has one, so that the
 * plugin's Deno finds the same module cache.
 */
export function moduleEnv(): Record<string, string> {
  const denoDir = Deno.env.get("DENO_DIR");
  return denoDir === undefined ? {} : { DENO_DIR: denoDir };
}

/** The grants a Deno child needs to listen on or dial the Unix socket `socket`, and no more. */
export function socketGrants(socket: string): string[] {
  return [`--allow-read=${socket}`, `--allow-write=${socket}`, `--allow-net=unix:${socket}`];
}

/**
 * A relay child (tests/support/unix_relay.ts) piping its stdin to the Unix socket `socket` and
 * the socket to its stdout, with the exact grant for it: the test run's own `--allow-net` cannot
 * name a socket path that is only made now.
 */
export function spawnRelay(socket: string, stderr: "inherit" | "null"): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", ...socketGrants(socket), RELAY, socket],
    stdin: "piped",
    stdout: "piped",
    stderr,
  }).spawn();
}

/** A running plugin process. */
export class PluginProcess {
  /** The socket path given in `configure`. */
  readonly socket: string;
  /** `ready`'s params. */
  ready: Message = {};
  /** Lines on stderr (the router would log them). */
  readonly stderr: ChildLines;
  readonly #dir: string;
  readonly #child: Deno.ChildProcess;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  readonly #stdout: ChildLines;
  /** stdout sorted as it arrives: answers (`result`/`error`), pushes by method, and the rest. */
  readonly #answers = new Lines();
  readonly #pushes = new Map<string, Lines>();
  readonly notJson = new Lines();
  readonly #routed: Promise<void>;

  private constructor(dir: string, child: Deno.ChildProcess) {
    this.#dir = dir;
    this.socket = `${dir}/plugin.sock`;
    this.#child = child;
    this.#stdin = child.stdin.getWriter();
    this.#stdout = new ChildLines(child.stdout);
    this.stderr = new ChildLines(child.stderr);
    this.#routed = this.#route();
  }

  /**
   * Starts the plugin, sends the first `configure` and resolves once it answered `result` and
   * pushed `ready`; rejects with its answer or its stderr otherwise.
   */
  static async start(start: PluginStart): Promise<PluginProcess> {
    const dir = await Deno.makeTempDir({ prefix: "gh-proc-" });
    const [program, ...args] = start.command(`${dir}/plugin.sock`);
    const child = new Deno.Command(program!, {
      args,
      clearEnv: true,
      env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", ...start.env },
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      ...(start.cwd ? { cwd: start.cwd } : {}),
    }).spawn();
    const plugin = new PluginProcess(dir, child);
    try {
      const answer = await plugin.configure(start.config);
      if (answer.result !== "ok") throw new Error(`configure answered ${JSON.stringify(answer)}`);
      plugin.ready = await plugin.nextPush("ready");
    } catch (error) {
      await plugin.stop();
      throw new Error(`${error}\nstderr:\n${plugin.stderr.seen.join("\n")}`);
    }
    return plugin;
  }

  /** Sends `configure` with `config` and resolves with the answer line. */
  async configure(config: Message): Promise<Message> {
    const request = {
      method: "configure",
      params: { route_id: "guard", socket: this.socket, socket_dir: this.#dir, config },
    };
    await this.#stdin.write(encoder.encode(JSON.stringify(request) + "\n"));
    return JSON.parse((await this.#answers.next(/^(.*)$/))[1]!);
  }

  /** The params of the next push of `method` not yet returned. */
  async nextPush(method: string, ms?: number): Promise<Message> {
    const m = await this.#pushLines(method).next(/^(.*)$/, ms);
    return (JSON.parse(m[1]!) as Message).params as Message;
  }

  /** Every stdout line so far, in order. */
  get stdoutLines(): readonly string[] {
    return this.#stdout.seen;
  }

  /**
   * A new connection to the plugin's socket (the router pools several), through a relay child with
   * the exact grant for it (tests/support/unix_relay.ts): the test run's own `--allow-net` cannot
   * name a socket path that is only made now.
   */
  connect(): HookConnection {
    return new HookConnection(spawnRelay(this.socket, "inherit"));
  }

  /**
   * Stops it as the router does: closes stdin, then SIGTERM after 2 s, SIGKILL after 2 s more.
   * Resolves with its exit status.
   */
  async stop(): Promise<Deno.CommandStatus> {
    await this.#stdin.close().catch(() => {});
    const status = await this.#exitWithin(2_000, "SIGTERM") ??
      await this.#exitWithin(2_000, "SIGKILL") ?? await this.#child.status;
    await this.#routed;
    await this.stderr.done;
    await Deno.remove(this.#dir, { recursive: true });
    return status;
  }

  async #exitWithin(ms: number, signal: Deno.Signal): Promise<Deno.CommandStatus | null> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<null>((resolve) => timer = setTimeout(() => resolve(null), ms));
    const status = await Promise.race([this.#child.status, late]);
    clearTimeout(timer);
    if (status === null) {
      try {
        this.#child.kill(signal);
      } catch {
        // Exited in the meantime.
      }
    }
    return status;
  }

  async #route(): Promise<void> {
    for (let i = 0;; i++) {
      try {
        await this.#stdout.next(/^/, 24 * 3600_000);
      } catch {
        break; // stdout ended
      }
      const line = this.#stdout.seen[i]!;
      let message: unknown;
      try {
        message = JSON.parse(line);
      } catch {
        this.notJson.push(line);
        continue;
      }
      const method = (message as Message)?.method;
      if (typeof method === "string") this.#pushLines(method).push(line);
      else this.#answers.push(line);
    }
    this.#answers.end();
    this.notJson.end();
    for (const lines of this.#pushes.values()) lines.end();
  }

  #pushLines(method: string): Lines {
    let lines = this.#pushes.get(method);
    if (!lines) this.#pushes.set(method, lines = new Lines());
    return lines;
  }
}

/** One socket connection: one call at a time, as the router's pool uses it. */
export class HookConnection {
  readonly #relay: Deno.ChildProcess;
  readonly #in: WritableStreamDefaultWriter<Uint8Array>;
  readonly #out: ReadableStreamDefaultReader<Uint8Array>;
  #buffered: Uint8Array = new Uint8Array(0);
  #closed = false;

  constructor(relay: Deno.ChildProcess) {
    this.#relay = relay;
    this.#in = relay.stdin.getWriter();
    this.#out = relay.stdout.getReader();
  }

  /** Sends hook `type` with `data` and resolves with the decoded response frame. */
  async call(type: number, data: Message): Promise<Message> {
    await this.send(type, data);
    return this.readResponse();
  }

  /** Sends a request frame without waiting for anything (on_disconnect). */
  async send(type: number, data: Message): Promise<void> {
    await this.sendRaw(encode({ t: type, d: encode(data) }));
  }

  /** Sends `body` behind a 4-byte big-endian length. */
  async sendRaw(body: Uint8Array): Promise<void> {
    const bytes = new Uint8Array(4 + body.length);
    new DataView(bytes.buffer).setUint32(0, body.length);
    bytes.set(body, 4);
    await this.sendRawBytes(bytes);
  }

  /** Sends `bytes` as they are: for a broken length prefix. */
  async sendRawBytes(bytes: Uint8Array): Promise<void> {
    await this.#in.write(bytes);
  }

  /** The next response frame, decoded; throws when the plugin closes the connection instead. */
  async readResponse(): Promise<Message> {
    const header = await this.#readExactly(4);
    const body = await this.#readExactly(new DataView(header.buffer).getUint32(0));
    return decode(body) as Message;
  }

  /** Resolves with the bytes that came before the plugin closed the connection. */
  async closedByPeer(): Promise<Uint8Array> {
    while (true) {
      const { value, done } = await this.#out.read();
      if (done) return this.#buffered;
      this.#buffered = concat(this.#buffered, value);
    }
  }

  /** Closes the connection and waits for the relay to end. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#in.close().catch(() => {});
    await this.#out.cancel().catch(() => {});
    await this.#relay.status;
  }

  async #readExactly(n: number): Promise<Uint8Array> {
    while (this.#buffered.length < n) {
      const { value, done } = await this.#out.read();
      if (done) throw new Error(`connection closed after ${this.#buffered.length} of ${n} bytes`);
      this.#buffered = concat(this.#buffered, value);
    }
    const out = this.#buffered.slice(0, n);
    this.#buffered = this.#buffered.slice(n);
    return out;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
