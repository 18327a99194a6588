/**
 * The gRPC side of the conformance table: a scripted plugin server in the test process, on a
 * real TCP socket, speaking the plugin's contract (docs/plugins.md §6.1: unary
 * `/hyrouter.Plugin/OnConnect`, JSON messages) over HTTP/2 written by hand with
 * tests/plugins/grpc/fake_server.ts's frame helpers — no code shared with src/. It answers
 * SETTINGS and PINGs as a live server does (so a stalled call is a slow server, not a dead
 * one), returns window updates, and answers each request by its username from `ANSWERS` (a
 * `fail` is a non-OK status). Taken
 * away, it closes its listener and every connection; brought back, it listens on the same port.
 */
import { createGrpcPlugin } from "../../../src/plugins/grpc/mod.ts";
import { silentLogger } from "../../support/logger.ts";
import {
  ACK,
  CLIENT_PREFACE,
  DATA,
  END_HEADERS,
  END_STREAM,
  frame,
  grpcMessage,
  HEADERS,
  literal,
  PING,
  SETTINGS,
  STATUS_200,
  takeFrame,
  u32,
  WINDOW_UPDATE,
} from "../grpc/fake_server.ts";
import { type Answer, ANSWERS, PLUGIN } from "./cases.ts";
import type { Harness, TransportUnderTest } from "./harness.ts";

/** What a gRPC plugin answers for `garbage`: an OK response whose message is not JSON. */
export const GRPC_GARBAGE = "not json {";

/** The scripted server; {@link close} ends it, {@link ScriptedGrpcServer.listen} starts one. */
export class ScriptedGrpcServer {
  readonly #listener: Deno.TcpListener;
  readonly #conns = new Set<Deno.TcpConn>();
  readonly #served = new Set<Promise<void>>();
  readonly #accepting: Promise<void>;
  #closed = false;

  private constructor(listener: Deno.TcpListener) {
    this.#listener = listener;
    this.#accepting = this.#accept();
  }

  /** Listens on 127.0.0.1:`port` (0: any free port). */
  static listen(port = 0): ScriptedGrpcServer {
    return new ScriptedGrpcServer(Deno.listen({ hostname: "127.0.0.1", port }));
  }

  /** The port it listens on. */
  get port(): number {
    return (this.#listener.addr as Deno.NetAddr).port;
  }

  /** Stops listening, closes every connection, and waits for their loops to end. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#listener.close();
    await this.#accepting;
    for (const conn of this.#conns) closeQuietly(conn);
    await Promise.all(this.#served);
  }

  async #accept(): Promise<void> {
    try {
      for await (const conn of this.#listener) {
        this.#conns.add(conn);
        const served = serve(conn).finally(() => {
          this.#conns.delete(conn);
          this.#served.delete(served);
          closeQuietly(conn);
        });
        this.#served.add(served);
      }
    } catch {
      // The listener was closed.
    }
  }
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Closed already.
  }
}

// One connection: the client's preface, then frames until EOF. Request bodies are gathered per
// stream and answered when the stream's END_STREAM arrives.
async function serve(conn: Deno.TcpConn): Promise<void> {
  const bodies = new Map<number, Uint8Array[]>();
  // Frames written together go out in one write: a reply split over several small writes
  // would meet Nagle's algorithm and the client's delayed ACK (~40 ms a call).
  conn.setNoDelay(true);
  const write = async (...frames: Uint8Array[]): Promise<void> => {
    const all = concat(frames);
    for (let off = 0; off < all.length;) off += await conn.write(all.subarray(off));
  };
  let pending = new Uint8Array(0);
  let prefaceSeen = false;
  const buf = new Uint8Array(64 * 1024);
  try {
    await write(frame(SETTINGS, 0, 0, []));
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) return;
      const joined = new Uint8Array(pending.length + n);
      joined.set(pending);
      joined.set(buf.subarray(0, n), pending.length);
      pending = joined;
      if (!prefaceSeen) {
        if (pending.length < CLIENT_PREFACE.length) continue;
        if (
          new TextDecoder().decode(pending.subarray(0, CLIENT_PREFACE.length)) !== CLIENT_PREFACE
        ) return;
        pending = pending.subarray(CLIENT_PREFACE.length);
        prefaceSeen = true;
      }
      for (let taken = takeFrame(pending); taken; taken = takeFrame(pending)) {
        pending = taken.rest;
        const { type, flags, stream, payload } = taken.next;
        await onFrame(type, flags, stream, payload, bodies, write);
      }
      pending = pending.slice();
    }
  } catch {
    // Reset by the client, or closed by `close`: as good as EOF here.
  }
}

async function onFrame(
  type: number,
  flags: number,
  stream: number,
  payload: Uint8Array,
  bodies: Map<number, Uint8Array[]>,
  write: (...frames: Uint8Array[]) => Promise<void>,
): Promise<void> {
  if (type === SETTINGS && (flags & ACK) === 0) return await write(frame(SETTINGS, ACK, 0, []));
  if (type === PING && (flags & ACK) === 0) return await write(frame(PING, ACK, 0, payload));
  if (type === HEADERS) bodies.set(stream, []);
  if (type === DATA) {
    bodies.get(stream)?.push(payload);
    // Give the flow-control window back, so that any number of calls fit on one connection.
    if (payload.length > 0) {
      await write(
        frame(WINDOW_UPDATE, 0, 0, u32(payload.length)),
        frame(WINDOW_UPDATE, 0, stream, u32(payload.length)),
      );
    }
  }
  if ((type === HEADERS || type === DATA) && (flags & END_STREAM) !== 0) {
    const body = concat(bodies.get(stream) ?? []);
    bodies.delete(stream);
    const reply = answer(stream, ANSWERS[usernameOf(body)] ?? { kind: "json", doc: {} });
    if (reply !== null) await write(...reply);
  }
}

// The request's username: the gRPC message (flag byte, 4-byte length) holds ConnectRequest JSON.
function usernameOf(body: Uint8Array): string {
  try {
    const doc = JSON.parse(new TextDecoder().decode(body.subarray(5)));
    return typeof doc?.event?.username === "string" ? doc.event.username : "";
  } catch {
    return "";
  }
}

// The response frames for a case, or null to never answer.
function answer(stream: number, a: Answer): Uint8Array[] | null {
  switch (a.kind) {
    case "stall":
      return null;
    case "garbage":
      return respond(stream, GRPC_GARBAGE);
    case "json":
      return respond(stream, JSON.stringify(a.doc));
    case "fail":
      // Trailers-only: the call failed in the server's handler (13 = INTERNAL).
      return [
        frame(HEADERS, END_HEADERS | END_STREAM, stream, [
          ...STATUS_200,
          ...literal("content-type", "application/grpc+json"),
          ...literal("grpc-status", "13"),
          ...literal("grpc-message", a.message),
        ]),
      ];
  }
}

function respond(stream: number, message: string): Uint8Array[] {
  return [
    frame(HEADERS, END_HEADERS, stream, [
      ...STATUS_200,
      ...literal("content-type", "application/grpc+json"),
    ]),
    frame(DATA, 0, stream, grpcMessage(message)),
    frame(HEADERS, END_HEADERS | END_STREAM, stream, literal("grpc-status", "0")),
  ];
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The gRPC transport against the scripted server. */
export function grpcTransport(): TransportUnderTest {
  return {
    name: "grpc",
    countsRestarts: false,
    start(): Promise<Harness> {
      let server = ScriptedGrpcServer.listen();
      const port = server.port;
      const transport = createGrpcPlugin({
        name: PLUGIN,
        address: `127.0.0.1:${port}`,
        timeoutMs: 1_000,
        logger: silentLogger(),
      });
      return Promise.resolve({
        transport,
        stop: () => server.close(),
        restart: () => {
          server = ScriptedGrpcServer.listen(port);
          return Promise.resolve();
        },
        close: async () => {
          await transport.close();
          await server.close();
        },
      });
    },
  };
}
