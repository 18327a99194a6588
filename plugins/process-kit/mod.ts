/**
 * The TypeScript kit for Gatehouse process plugins (docs/plugins.md §7). A plugin is a set of
 * handlers:
 *
 * ```ts
 * import { runPlugin } from "../process-kit/mod.ts";
 * const plugin = await runPlugin({
 *   configure(config) { ... },                     // start and every reload; throw to refuse
 *   onConnect(info) {                              // each player, before the router answers
 *     return info.username === "griefer" ? { ok: false, reason: "banned" } : { ok: true };
 *   },
 *   onDisconnect(info) { ... },                    // what happened to the player
 * });
 * plugin.log("info", "up");
 * plugin.setTargets("lobbies", ["10.0.0.1:5520"]);
 * ```
 *
 * The kit speaks both channels for you: the JSON lines on stdin/stdout (it answers `configure`,
 * listens on the socket the router names, pushes `ready` with the hooks you implemented, and your
 * `log` and `set_targets`), and the msgpack frames on that socket, one call at a time per
 * connection, with the short wire keys mapped to readable names (`types.ts`).
 *
 * Errors: a `configure` that throws answers `{"error": message}`. An `onConnect` that throws (or a
 * request it cannot decode) is logged and answered with a frame without `ok`, which the router
 * counts as a plugin error, so the plugin's `failure_policy` decides (skip it, or deny), exactly as
 * for a crash or a timeout; the plugin keeps serving. It is not answered with a deny or an allow
 * because the kit cannot know which one is safe for your plugin: the operator already said so in
 * the config. `onDisconnect` errors are only logged.
 *
 * stdout belongs to the protocol, so the kit points `console.log`/`info`/`debug` at stderr, which
 * the router logs line by line under the plugin's name. When the router closes stdin, the plugin
 * exits.
 */
import {
  decodeConnectInfo,
  decodeDisconnectInfo,
  decodeEnvelope,
  encodeConnectResult,
  frame,
  HOOK_ON_CONNECT,
  HOOK_ON_DISCONNECT,
  PLUGIN_ERROR_ANSWER,
  readFrames,
} from "./wire.ts";
import type { Handlers, LogLevel, Plugin, PluginConfig } from "./types.ts";

export type * from "./types.ts";

const encoder = new TextEncoder();

/**
 * Runs a plugin on this process's stdin and stdout: resolves once the first `configure` succeeded,
 * the socket listens and `ready` is sent (so pushes made then reach a router that has the plugin).
 * Rejects only if stdin ends before that. The process exits when stdin ends.
 */
export function runPlugin(handlers: Handlers): Promise<Plugin> {
  sendConsoleToStderr();
  const { plugin, ended } = new Lifecycle(handlers, Deno.stdout.writable).run(Deno.stdin.readable);
  ended.then(() => Deno.exit(0));
  return plugin;
}

class Lifecycle {
  readonly #handlers: Handlers;
  readonly #out: WritableStreamDefaultWriter<Uint8Array>;
  #plugin: ServingPlugin | null = null;

  constructor(handlers: Handlers, output: WritableStream<Uint8Array>) {
    this.#handlers = handlers;
    this.#out = output.getWriter();
  }

  run(input: ReadableStream<Uint8Array>): { plugin: Promise<Plugin>; ended: Promise<void> } {
    let resolve!: (plugin: Plugin) => void;
    let reject!: (error: Error) => void;
    const plugin = new Promise<Plugin>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const ended = (async () => {
      for await (const line of readLines(input)) {
        const started = this.#plugin === null;
        await this.#request(line);
        if (started && this.#plugin !== null) resolve(this.#plugin);
      }
      this.#plugin?.close();
      reject(new Error("stdin ended before the plugin was configured"));
    })();
    return { plugin, ended };
  }

  /** One router → plugin line: `{method: "configure", params: {socket, config, …}}`. */
  async #request(line: string): Promise<void> {
    let request: { method?: unknown; params?: Record<string, unknown> };
    try {
      request = JSON.parse(line);
    } catch {
      return this.#send({ error: "request is not JSON" });
    }
    if (request?.method !== "configure") {
      return this.#send({ error: `unknown method ${JSON.stringify(request?.method)}` });
    }
    const socket = request.params?.socket;
    const config = request.params?.config ?? {};
    if (typeof socket !== "string" || typeof config !== "object" || config === null) {
      return this.#send({ error: "configure needs params.socket (string) and params.config" });
    }
    try {
      await this.#handlers.configure?.(config as PluginConfig);
      if (this.#plugin === null) {
        this.#plugin = new ServingPlugin(this.#handlers, socket, (m) => this.#send(m));
      } else if (socket !== this.#plugin.socket) {
        this.#plugin.log(
          "warn",
          `configure names socket ${socket}; still on ${this.#plugin.socket}`,
        );
      }
    } catch (error) {
      return this.#send({ error: errorText(error) });
    }
    this.#send({ result: "ok" });
    if (this.#plugin.ready) return;
    this.#plugin.ready = true;
    const hooks = [];
    if (this.#handlers.onConnect) hooks.push("on_connect");
    if (this.#handlers.onDisconnect) hooks.push("on_disconnect");
    this.#send({ method: "ready", params: { socket, hooks } });
  }

  /** One line to the router. Writes queue in order; a router gone (stdout closed) ends us. */
  #send(message: unknown): void {
    this.#out.write(encoder.encode(JSON.stringify(message, jsonSafe) + "\n")).catch(() =>
      Deno.exit(0)
    );
  }
}

/** The socket side and the pushes; what `runPlugin` resolves with. */
class ServingPlugin implements Plugin {
  readonly socket: string;
  ready = false;
  readonly #handlers: Handlers;
  readonly #send: (message: unknown) => void;
  readonly #listener: Deno.Listener;

  /** Listens on `socket` at once (throws if it cannot: that fails the `configure`). */
  constructor(handlers: Handlers, socket: string, send: (message: unknown) => void) {
    this.socket = socket;
    this.#handlers = handlers;
    this.#send = send;
    this.#listener = Deno.listen({ transport: "unix", path: socket });
    this.#accept();
  }

  log(level: LogLevel, message: string, ...args: unknown[]): void {
    this.#send({ method: "log", params: { level, message, args } });
  }

  setTargets(
    routeId: string,
    targets: readonly string[],
    groups?: Readonly<Record<string, readonly string[]>>,
  ): void {
    this.#send({
      method: "set_targets",
      params: { route_id: routeId, targets, ...(groups ? { groups } : {}) },
    });
  }

  close(): void {
    this.#listener.close();
  }

  async #accept(): Promise<void> {
    try {
      for await (const conn of this.#listener) this.#serve(conn);
    } catch {
      // The listener was closed: we are stopping.
    }
  }

  /** One pooled connection of the router: one call at a time, so frames are handled in turn. */
  async #serve(conn: Deno.Conn): Promise<void> {
    try {
      for await (const body of readFrames(conn)) {
        const { type, data } = decodeEnvelope(body);
        if (type === HOOK_ON_CONNECT) await this.#answer(conn, await this.#onConnect(data));
        else if (type === HOOK_ON_DISCONNECT) this.#onDisconnect(data);
        // Unknown type: whether the router waits for an answer is unknown too: drop the connection.
        else throw new Error(`hook type ${type}, which Gatehouse never sends`);
      }
    } catch (error) {
      // A frame we cannot read, or the router closed a call it had given up on (timeout).
      this.log("warn", `socket connection dropped: ${errorText(error)}`);
    } finally {
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    }
  }

  /** Writes an answer; a closed connection means the router gave up on the call (its timeout). */
  async #answer(conn: Deno.Conn, body: Uint8Array): Promise<void> {
    try {
      await writeAll(conn, frame(body));
    } catch (error) {
      throw new Error(
        `answer not delivered, the router closed the call (timeout?): ${errorText(error)}`,
      );
    }
  }

  async #onConnect(data: Uint8Array): Promise<Uint8Array> {
    try {
      if (!this.#handlers.onConnect) throw new Error("on_connect is not implemented");
      return encodeConnectResult(await this.#handlers.onConnect(decodeConnectInfo(data)));
    } catch (error) {
      this.log("error", `onConnect failed: ${errorText(error)}`);
      return PLUGIN_ERROR_ANSWER;
    }
  }

  /** Not awaited: the router sends the next call without waiting, so we must not either. */
  #onDisconnect(data: Uint8Array): void {
    (async () => {
      await this.#handlers.onDisconnect?.(decodeDisconnectInfo(data));
    })().catch((error) => this.log("error", `onDisconnect failed: ${errorText(error)}`));
  }
}

async function* readLines(input: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buffered = "";
  for await (const text of input.pipeThrough(new TextDecoderStream())) {
    buffered += text;
    const lines = buffered.split("\n");
    buffered = lines.pop()!;
    for (const line of lines) if (line.trim() !== "") yield line;
  }
  if (buffered.trim() !== "") yield buffered;
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let written = 0; written < bytes.length;) {
    written += await conn.write(bytes.subarray(written));
  }
}

function sendConsoleToStderr(): void {
  const toStderr = (...args: unknown[]) => console.error(...args);
  console.log = toStderr;
  console.info = toStderr;
  console.debug = toStderr;
}

/** JSON for log args: errors as their text, bigints as decimal, bytes as a number list. */
function jsonSafe(_key: string, value: unknown): unknown {
  if (value instanceof Error) return errorText(value);
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Uint8Array) return [...value];
  return value;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
