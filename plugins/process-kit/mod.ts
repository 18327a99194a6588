/**
 * The TypeScript kit for Gatehouse process plugins (docs/plugins.md §7). A plugin is a set of
 * handlers:
 *
 * ```ts
 * import { runPlugin } from "../process-kit/mod.ts";
 * const plugin = await runPlugin({
 *   configure(config, plugin) {                    // start and every reload; throw to refuse
 *     plugin.setTargets("lobbies", config.lobbies as string[]);   // held until `ready` at start
 *   },
 *   onConnect(info) {                              // each player, before the router answers
 *     return info.username === "griefer" ? { ok: false, reason: "banned" } : { ok: true };
 *   },
 *   onDisconnect(info) {                           // what happened to the player
 *     plugin.log("info", `${info.username} ${info.outcome}`);
 *   },
 * });
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
 * the socket listens and `ready` is sent. Rejects only if stdin ends before that. The process
 * exits when stdin ends.
 */
export function runPlugin(handlers: Handlers): Promise<Plugin> {
  sendConsoleToStderr();
  const { plugin, ended } = new Lifecycle(handlers, Deno.stdout.writable).run(Deno.stdin.readable);
  ended.then(() => Deno.exit(0));
  return plugin;
}

/** The stdin/stdout side: answers `configure`, starts the hook server once, sends `ready`. */
class Lifecycle {
  readonly #handlers: Handlers;
  readonly #channel: Channel;
  #server: HookServer | null = null;

  constructor(handlers: Handlers, output: WritableStream<Uint8Array>) {
    this.#handlers = handlers;
    this.#channel = new Channel(output.getWriter());
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
        await this.#request(line);
        if (this.#server) resolve(this.#channel);
      }
      this.#server?.close();
      reject(new Error("stdin ended before the plugin was configured"));
    })();
    return { plugin, ended };
  }

  /** One router → plugin line: `{method: "configure", params: {socket, config, …}}`. */
  async #request(line: string): Promise<void> {
    const channel = this.#channel;
    let request: { method?: unknown; params?: Record<string, unknown> };
    try {
      request = JSON.parse(line);
    } catch {
      return channel.send({ error: "request is not JSON" });
    }
    if (request?.method !== "configure") {
      return channel.send({ error: `unknown method ${JSON.stringify(request?.method)}` });
    }
    const socket = request.params?.socket;
    const config = request.params?.config ?? {};
    if (typeof socket !== "string" || typeof config !== "object" || config === null) {
      return channel.send({ error: "configure needs params.socket (string) and params.config" });
    }
    if (this.#server && socket !== channel.socket) {
      channel.log("warn", `configure names socket ${socket}; still on ${channel.socket}`);
    }
    try {
      if (!this.#server) channel.socket = socket;
      await this.#handlers.configure?.(config as PluginConfig, channel);
      this.#server ??= new HookServer(this.#handlers, socket, channel);
    } catch (error) {
      return channel.send({ error: errorText(error) });
    }
    channel.send({ result: "ok" });
    const hooks = [];
    if (this.#handlers.onConnect) hooks.push("on_connect");
    if (this.#handlers.onDisconnect) hooks.push("on_disconnect");
    channel.ready(hooks);
  }
}

/**
 * The `Plugin` an author holds: pushes to the router. `set_targets` made before `ready` (in the
 * first `configure`) are held and sent right after it, so a plugin can push from `configure`
 * every time; logs go at once.
 */
class Channel implements Plugin {
  socket = "";
  readonly #out: WritableStreamDefaultWriter<Uint8Array>;
  #held: unknown[] | null = [];

  constructor(out: WritableStreamDefaultWriter<Uint8Array>) {
    this.#out = out;
  }

  log(level: LogLevel, message: string, ...args: unknown[]): void {
    this.send({ method: "log", params: { level, message, args } });
  }

  setTargets(
    routeId: string,
    targets: readonly string[],
    groups?: Readonly<Record<string, readonly string[]>>,
  ): void {
    const push = {
      method: "set_targets",
      params: { route_id: routeId, targets, ...(groups ? { groups } : {}) },
    };
    if (this.#held) this.#held.push(push);
    else this.send(push);
  }

  /** Sends `ready` (once) and what was held for it. */
  ready(hooks: readonly string[]): void {
    const held = this.#held;
    if (!held) return;
    this.#held = null;
    this.send({ method: "ready", params: { socket: this.socket, hooks } });
    for (const push of held) this.send(push);
  }

  /** One line to the router. Writes queue in order; a router gone (stdout closed) ends us. */
  send(message: unknown): void {
    this.#out.write(encoder.encode(JSON.stringify(message, jsonSafe) + "\n")).catch(() =>
      Deno.exit(0)
    );
  }
}

/** The socket side: the router's pooled connections, each one call at a time. */
class HookServer {
  readonly #handlers: Handlers;
  readonly #plugin: Plugin;
  readonly #listener: Deno.Listener;

  /** Listens on `socket` at once (throws if it cannot: that fails the `configure`). */
  constructor(handlers: Handlers, socket: string, plugin: Plugin) {
    this.#handlers = handlers;
    this.#plugin = plugin;
    this.#listener = Deno.listen({ transport: "unix", path: socket });
    this.#accept();
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

  /** One connection: frames are handled in turn, as the router sends one call at a time. */
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
      this.#plugin.log("warn", `socket connection dropped: ${errorText(error)}`);
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
      this.#plugin.log("error", `onConnect failed: ${errorText(error)}`);
      return PLUGIN_ERROR_ANSWER;
    }
  }

  /** Not awaited: the router sends the next call without waiting, so we must not either. */
  #onDisconnect(data: Uint8Array): void {
    (async () => {
      await this.#handlers.onDisconnect?.(decodeDisconnectInfo(data));
    })().catch((error) => this.#plugin.log("error", `onDisconnect failed: ${errorText(error)}`));
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
