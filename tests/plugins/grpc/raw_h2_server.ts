/**
 * A raw HTTP/2 server on a real TCP socket (127.0.0.1, port 0), for tests in which the server
 * is the attacker: it speaks just enough HTTP/2 (client preface, SETTINGS, frames written by
 * hand) and every accepted connection is handed to the next scripted behaviour. Frames are built
 * with `fake_server.ts`'s helpers; nothing here shares code with src/.
 */
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
  SETTINGS,
  STATUS_200,
  takeFrame,
  type TestFrame,
} from "./fake_server.ts";

/** What a connection does once accepted; its result is kept for the test. */
export type Behaviour = (peer: H2Peer) => Promise<unknown>;

/** A 9-octet frame header announcing `length` payload octets (which may never follow). */
export function frameHeader(length: number, type: number, flags: number, stream: number) {
  return new Uint8Array([
    (length >>> 16) & 255,
    (length >>> 8) & 255,
    length & 255,
    type,
    flags,
    (stream >>> 24) & 127,
    (stream >>> 16) & 255,
    (stream >>> 8) & 255,
    stream & 255,
  ]);
}

/** The error code of a GOAWAY payload (octets 4–7, RFC 9113 §6.8). */
export function goawayCode(f: TestFrame): number {
  return new DataView(f.payload.buffer, f.payload.byteOffset).getUint32(4);
}

/** One accepted connection, seen from the server: frames the client sent, and a writer. */
export class H2Peer {
  readonly #conn: Deno.TcpConn;
  readonly #frames: TestFrame[] = [];
  #cursor = 0;
  #wake: (() => void) | null = null;
  #ended = false;
  /** Resolves when the client closed (EOF or reset) or the socket failed. */
  readonly ended: Promise<void>;

  constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
    this.ended = this.#readLoop();
  }

  /** Whether the client has closed the connection. */
  get isEnded(): boolean {
    return this.#ended;
  }

  /** Sends an empty SETTINGS frame (the server's preface) and waits for the client's. */
  async handshake(): Promise<void> {
    await this.send(frame(SETTINGS, 0, 0, []));
    await this.next((f) => f.type === SETTINGS && (f.flags & ACK) === 0);
  }

  /**
   * The next frame the client sent that matches (frames before it are skipped); waits up to
   * `timeoutMs`. Rejects when the client closes first or the time runs out.
   */
  async next(match: (f: TestFrame) => boolean, timeoutMs = 5_000): Promise<TestFrame> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      while (this.#cursor < this.#frames.length) {
        const f = this.#frames[this.#cursor++]!;
        if (match(f)) return f;
      }
      if (this.#ended) throw new Error("client closed the connection");
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`no matching frame within ${timeoutMs} ms`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
  }

  /** Every frame the client has sent so far. */
  get frames(): readonly TestFrame[] {
    return this.#frames;
  }

  /** The request of the next stream whose body ended (its DATA with END_STREAM). */
  async request(): Promise<number> {
    const f = await this.next((f) => f.type === DATA && (f.flags & END_STREAM) !== 0);
    return f.stream;
  }

  /** Writes `chunks`; false once the client has gone (broken pipe, reset). */
  async send(...chunks: Uint8Array[]): Promise<boolean> {
    try {
      for (const c of chunks) {
        for (let off = 0; off < c.length;) off += await this.#conn.write(c.subarray(off));
      }
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Writes `chunk` over and over until `budget` octets are out, the client goes, or `maxMs`
   * pass: a bounded loop that stops by itself. Calls `onProgress` after every write. Returns
   * the octets written.
   */
  async blast(
    chunk: Uint8Array,
    budget: number,
    onProgress: (sent: number) => void = () => {},
    maxMs = 15_000,
  ): Promise<number> {
    const until = performance.now() + maxMs;
    let sent = 0;
    while (sent < budget && performance.now() < until) {
      if (!(await this.send(chunk))) break;
      sent += chunk.length;
      onProgress(sent);
    }
    return sent;
  }

  /** Answers stream `id` with headers, one message and OK trailers. */
  answerOk(id: number, body: string): Promise<boolean> {
    return this.send(
      frame(HEADERS, END_HEADERS, id, [
        ...STATUS_200,
        ...literal("content-type", "application/grpc"),
      ]),
      frame(DATA, 0, id, grpcMessage(body)),
      frame(HEADERS, END_HEADERS | END_STREAM, id, literal("grpc-status", "0")),
    );
  }

  /** Closes the socket (ignored if already closed). */
  close(): void {
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
  }

  async #readLoop(): Promise<void> {
    let pending: Uint8Array = new Uint8Array(0);
    let prefaceSeen = false;
    const buf = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const n = await this.#conn.read(buf);
        if (n === null) break;
        const joined = new Uint8Array(pending.length + n);
        joined.set(pending);
        joined.set(buf.subarray(0, n), pending.length);
        pending = joined;
        if (!prefaceSeen && pending.length >= CLIENT_PREFACE.length) {
          const text = new TextDecoder().decode(pending.subarray(0, CLIENT_PREFACE.length));
          if (text !== CLIENT_PREFACE) throw new Error("bad client preface");
          pending = pending.subarray(CLIENT_PREFACE.length);
          prefaceSeen = true;
        }
        if (prefaceSeen) pending = this.#takeFrames(pending);
      }
    } catch {
      // reset by the client: as good as EOF here
    }
    this.#ended = true;
    this.#wake?.();
  }

  #takeFrames(b: Uint8Array): Uint8Array {
    for (let taken = takeFrame(b); taken; taken = takeFrame(b)) {
      this.#frames.push(taken.next);
      b = taken.rest;
    }
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
    return b.slice();
  }
}

/**
 * Answers every request on the connection with `{}` until the client closes: a well-behaved
 * plugin server.
 */
export async function serveOk(peer: H2Peer): Promise<void> {
  await peer.handshake();
  for (;;) {
    let id: number;
    try {
      id = await peer.request();
    } catch {
      return; // the client closed
    }
    if (!(await peer.answerOk(id, "{}"))) return;
  }
}

/** A listening raw server; connection `i` runs `behaviours[i]`, later ones the last entry. */
export class RawH2Server {
  readonly #listener: Deno.TcpListener;
  readonly #behaviours: readonly Behaviour[];
  readonly #peers: H2Peer[] = [];
  readonly #results: PromiseWithResolvers<unknown>[] = [];
  readonly #accepting: Promise<void>;

  constructor(behaviours: Behaviour | readonly Behaviour[]) {
    this.#behaviours = typeof behaviours === "function" ? [behaviours] : behaviours;
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.#accepting = this.#accept();
  }

  /** `127.0.0.1:port`. */
  get address(): string {
    return `127.0.0.1:${(this.#listener.addr as Deno.NetAddr).port}`;
  }

  /** How many connections have been accepted. */
  get connections(): number {
    return this.#peers.length;
  }

  /** The result of connection `i`'s behaviour, once it has been accepted and has ended. */
  result(i: number): Promise<unknown> {
    return this.#slot(i).promise;
  }

  /** Stops listening, closes every connection and waits for the behaviours to end. */
  async close(): Promise<void> {
    this.#listener.close();
    await this.#accepting;
    for (const p of this.#peers) p.close();
    await Promise.allSettled(this.#results.slice(0, this.#peers.length).map((r) => r.promise));
    await Promise.all(this.#peers.map((p) => p.ended));
  }

  #slot(i: number): PromiseWithResolvers<unknown> {
    while (this.#results.length <= i) {
      const slot = Promise.withResolvers<unknown>();
      slot.promise.catch(() => {}); // a failed behaviour is reported to whoever awaits it
      this.#results.push(slot);
    }
    return this.#results[i]!;
  }

  async #accept(): Promise<void> {
    try {
      for await (const conn of this.#listener) {
        const i = this.#peers.length;
        const peer = new H2Peer(conn);
        const behaviour = this.#behaviours[i] ?? this.#behaviours.at(-1)!;
        this.#peers.push(peer);
        const slot = this.#slot(i);
        behaviour(peer).finally(() => peer.close()).then(slot.resolve, slot.reject);
      }
    } catch {
      // listener closed
    }
  }
}
