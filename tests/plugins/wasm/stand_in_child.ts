/**
 * A stand-in for the plugin child process (`process_child.ts`), speaking the same frames and
 * started by `ProcessHost` with the same flags. After `init` it says `ready`, then answers each
 * call by its request text:
 *
 * - `hang`: never answers it, nor anything after it (a child wedged for good);
 * - `garbage`: writes a frame header claiming 4 GiB instead of an answer;
 * - `probe`: tries what a permission-less process must not do and answers with the error name
 *   of each attempt (`ok` if it succeeded), as JSON;
 * - `heap`: allocates JavaScript objects until V8's heap cap ends the process (as a bug in the
 *   host code the child runs could);
 * - anything else: answers `{}`.
 */

import { type Frame, FrameReader, FrameWriter } from "../../../src/plugins/wasm/process_frames.ts";

const out = new FrameWriter(Deno.stdout.writable, () => Deno.exit(1));
const reader = new FrameReader(0xffff_fff0);
const encoder = new TextEncoder();
let stuck = false;

async function attempt(what: () => unknown): Promise<string> {
  try {
    await what();
    return "ok";
  } catch (e) {
    return (e as Error).name;
  }
}

async function probe(): Promise<Record<string, string>> {
  const here = new URL(import.meta.url).pathname;
  const worker = new URL("../../../src/plugins/wasm/worker.ts", import.meta.url).pathname;
  return {
    readWorkerSource: await attempt(() => Deno.readTextFile(worker)),
    readOwnScript: await attempt(() => Deno.readTextFile(here)),
    readEtcPasswd: await attempt(() => Deno.readTextFile("/etc/passwd")),
    write: await attempt(() => Deno.writeTextFile("/tmp/gatehouse-child-probe", "x")),
    env: await attempt(() => Deno.env.get("HOME")),
    net: await attempt(() => Deno.connect({ hostname: "127.0.0.1", port: 9 })),
    run: await attempt(() => new Deno.Command("/bin/true").output()),
    sys: await attempt(() => Deno.hostname()),
    ffi: await attempt(() => Deno.dlopen("libc.so.6", {})),
  };
}

async function answer(frame: Extract<Frame, { t: "call" }>): Promise<void> {
  const request = new TextDecoder().decode(frame.request);
  if (request === "hang") stuck = true;
  if (stuck) return;
  if (request === "heap") {
    const hoard: unknown[] = [];
    for (;;) hoard.push(new Array(1 << 16).fill({ at: hoard.length }));
  }
  if (request === "garbage") {
    await out.drain();
    await Deno.stdout.write(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 4));
    return;
  }
  const body = request === "probe" ? JSON.stringify(await probe()) : "{}";
  out.send({ t: "answer", id: frame.id, kind: "ok", body: encoder.encode(body) });
}

for await (const chunk of Deno.stdin.readable) {
  reader.push(chunk);
  for (let frame = reader.next(); frame !== null; frame = reader.next()) {
    if (frame.t === "init") out.send({ t: "ready" });
    else if (frame.t === "call") void answer(frame);
  }
}
Deno.exit(0);
