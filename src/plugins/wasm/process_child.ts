/**
 * The child process of a plugin with `wasm.isolation: process` (started by `ProcessHost`, with no
 * permissions but read on the worker's own source files and a capped V8 heap). It runs the usual
 * {@link WasmHost} — sandboxed workers, deadline flags, abandon-after-grace — and relays calls
 * framed on stdin/stdout (`process_frames.ts`) to it.
 *
 * The child trusts the router (its stdin) and nothing else; the router trusts nothing from it.
 * Should the host here give up a worker (silent past a deadline plus the grace: a thread that
 * termination may not stop), the child says so and exits, and the router kills it for good —
 * the one thing a process can do that a worker cannot.
 */

// The logger module itself: the observability barrel pulls in the metrics library (npm), which
// the permission-less child, run without a config, could not resolve.
import { Logger } from "../../observability/logger.ts";
import { PluginError } from "../transport.ts";
import { WasmHost } from "./host.ts";
import { pluginLogLevel } from "./plugin_log.ts";
import { checkModule } from "./prepare.ts";
import { CHILD_EXIT, type Frame, FrameReader, FrameWriter } from "./process_frames.ts";

// The init frame carries the module file, which may exceed a call's frame limit; the router is
// trusted, so only the frame format's own bound applies.
const INIT_FRAME_LIMIT = 0xffff_fff0;

/**
 * Serves one plugin until stdin closes; resolves with the exit code. `input`/`output` default to
 * the process's stdin/stdout.
 */
export async function runProcessChild(
  input: ReadableStream<Uint8Array> = Deno.stdin.readable,
  output: WritableStream<Uint8Array> = Deno.stdout.writable,
): Promise<number> {
  let lost = false;
  const out = new FrameWriter(output, () => lost = true);
  const frames = readFrames(input);
  const first = await frames.next();
  if (first.done || first.value.t !== "init") return CHILD_EXIT.initFailed;
  const host = await startHost(first.value, out);
  if (host === null) {
    await out.drain();
    return CHILD_EXIT.initFailed;
  }
  out.send({ t: "ready" });
  const prefix = `plugin "${host.name}": `;
  const answers = new AnswerBatch(out);
  for await (const frame of frames) {
    if (frame.t !== "call" || lost) continue;
    answers.expect();
    host.call(frame.request, frame.timeoutMs).then(
      (body) => answers.answer({ t: "answer", id: frame.id, kind: "ok", body }),
      (e) => answers.answer(failure(frame.id, e, prefix)),
    );
  }
  await host.close();
  return CHILD_EXIT.done;
}

/**
 * Sends answers in batches: held until every call received so far is answered, but no longer
 * than one timer tick (~1 ms) — so one slow call does not hold up the others for longer. Why:
 * each write wakes the router's process, and its calls then come back as small as the answers
 * went out; answering as each came in, the two processes ping-ponged 2–3 calls at a time.
 */
class AnswerBatch {
  readonly #out: FrameWriter;
  #outstanding = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(out: FrameWriter) {
    this.#out = out;
  }

  /** A call was handed to the host. */
  expect(): void {
    this.#outstanding++;
  }

  /** Its answer. */
  answer(frame: Frame): void {
    this.#outstanding--;
    this.#out.hold(frame);
    if (this.#outstanding === 0) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#out.flush();
    } else {
      this.#timer ??= setTimeout(() => {
        this.#timer = undefined;
        this.#out.flush();
      }, 0);
    }
  }
}

async function* readFrames(input: ReadableStream<Uint8Array>): AsyncGenerator<Frame> {
  const reader = new FrameReader(INIT_FRAME_LIMIT);
  for await (const chunk of input) {
    reader.push(chunk);
    for (let frame = reader.next(); frame !== null; frame = reader.next()) yield frame;
  }
}

// Checks, rewrites and compiles the module, then starts the instances; null (after an
// `init_failed` naming the problem, as a load in the router would) if any of that fails.
async function startHost(
  frame: Extract<Frame, { t: "init" }>,
  out: FrameWriter,
): Promise<WasmHost | null> {
  const { init } = frame;
  let host: WasmHost | null = null;
  try {
    host = new WasmHost({
      name: init.name,
      module: (await checkModule(frame.module, init.prepare)).module,
      config: new TextEncoder().encode(init.config),
      instances: init.instances,
      initTimeoutMs: init.initTimeoutMs,
      terminateGraceMs: init.terminateGraceMs,
      logger: relayLogger(out, () => host),
      // The router keeps the plugin's breaker (it sees every outcome, the child's death too).
      breaker: { failureThreshold: Infinity },
      ...(init.workerUrl ? { workerUrl: new URL(init.workerUrl) } : {}),
    });
    await host.start();
    return host;
  } catch (e) {
    await host?.close();
    const message = e instanceof Error ? e.message : String(e);
    out.send({ t: "init_failed", message: message.replace(`plugin "${init.name}": `, "") });
    return null;
  }
}

function failure(id: number, e: unknown, prefix: string): Frame {
  if (!(e instanceof PluginError) || e.kind === "load") {
    return { t: "answer", id, kind: "trap", body: new TextEncoder().encode(String(e)) };
  }
  const message = e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message;
  return { t: "answer", id, kind: e.kind, body: new TextEncoder().encode(message.slice(0, 4096)) };
}

/**
 * A logger whose lines become `log` frames: the plugin's own output keeps its `source`, the
 * host's notes are `source: "host"` with their fields appended. After any warning or error it
 * checks whether the host has given up a worker (see the module comment).
 */
function relayLogger(out: FrameWriter, host: () => WasmHost | null): Logger {
  return new Logger({
    level: "debug",
    format: "json",
    sink: {
      now: () => new Date(),
      write(line, level) {
        const { msg, source, time: _t, level: _l, plugin: _p, ...fields } = JSON.parse(line);
        const extra = Object.entries(fields).map(([k, v]) => ` ${k}=${JSON.stringify(v)}`);
        out.send({
          t: "log",
          level: pluginLogLevel(level),
          source: typeof source === "string" ? source : "host",
          text: typeof source === "string" ? String(msg) : String(msg) + extra.join(""),
        });
        if (pluginLogLevel(level) >= 2 && (host()?.abandonedWorkers ?? 0) > 0) {
          out.send({ t: "abandoned" });
          void out.drain().finally(() => Deno.exit(CHILD_EXIT.abandoned));
        }
      },
    },
  });
}
