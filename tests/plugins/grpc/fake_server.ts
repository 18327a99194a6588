/**
 * A scripted HTTP/2 server on an in-memory byte stream, for the cases a real server will not
 * produce on demand (PINGs, padding, refused streams, table-size tricks, SETTINGS mid-stream).
 * Frames and HPACK are encoded here by hand (literal fields, no Huffman) and share no code with
 * src/.
 */
import type { ByteConn, Connector } from "../../../src/plugins/grpc/mod.ts";

/** A frame as the test sees it. */
export interface TestFrame {
  type: number;
  flags: number;
  stream: number;
  payload: Uint8Array;
}

export const DATA = 0, HEADERS = 1, RST_STREAM = 3, SETTINGS = 4, PING = 6, GOAWAY = 7;
export const WINDOW_UPDATE = 8;
export const END_STREAM = 1, ACK = 1, END_HEADERS = 4, PADDED = 8;

/** 9-byte header + payload, written out field by field. */
export function frame(type: number, flags: number, stream: number, payload: number[] | Uint8Array) {
  const p = payload instanceof Uint8Array ? payload : new Uint8Array(payload);
  return new Uint8Array([
    (p.length >> 16) & 255,
    (p.length >> 8) & 255,
    p.length & 255,
    type,
    flags,
    (stream >>> 24) & 127,
    (stream >>> 16) & 255,
    (stream >>> 8) & 255,
    stream & 255,
    ...p,
  ]);
}

/** The client connection preface (RFC 9113 §3.4), before the client's first frame. */
export const CLIENT_PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/** The first whole frame in `b` and the bytes after it; null while `b` holds less than one. */
export function takeFrame<B extends ArrayBufferLike>(
  b: Uint8Array<B>,
): { next: TestFrame; rest: Uint8Array<B> } | null {
  if (b.length < 9) return null;
  const len = (b[0]! << 16) | (b[1]! << 8) | b[2]!;
  if (b.length < 9 + len) return null;
  const stream = ((b[5]! & 127) << 24) | (b[6]! << 16) | (b[7]! << 8) | b[8]!;
  return {
    next: { type: b[3]!, flags: b[4]!, stream, payload: b.slice(9, 9 + len) },
    rest: b.subarray(9 + len),
  };
}

export const u32 = (n: number) => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];

/** HPACK "literal without indexing, new name" (RFC 7541 §6.2.2), short strings, no Huffman. */
export function literal(name: string, value: string): number[] {
  const e = new TextEncoder();
  return [0x00, name.length, ...e.encode(name), value.length, ...e.encode(value)];
}
/** HPACK "literal with incremental indexing, new name" (§6.2.1): adds a dynamic table entry. */
export function indexedLiteral(name: string, value: string): number[] {
  const e = new TextEncoder();
  return [0x40, name.length, ...e.encode(name), value.length, ...e.encode(value)];
}
/** `:status: 200` is static table entry 8 (§6.1 indexed field). */
export const STATUS_200 = [0x88];

/** gRPC length-prefixed message. */
export function grpcMessage(text: string): number[] {
  const bytes = new TextEncoder().encode(text);
  return [0, ...u32(bytes.length), ...bytes];
}

/** One in-memory connection: the client's end is a `ByteConn`, the test drives the other. */
export class FakeSocket implements ByteConn {
  #toClient: Uint8Array[] = [];
  #clientRead: ((n: Uint8Array | null) => void) | null = null;
  #fromClient = new Uint8Array(0);
  #clientWrote: (() => void) | null = null;
  closed = false;
  #prefaceSeen = false;

  // ---- client side (ByteConn) ----
  read(p: Uint8Array): Promise<number | null> {
    const give = (chunk: Uint8Array | null): number | null => {
      if (chunk === null) return null;
      const n = Math.min(p.length, chunk.length);
      p.set(chunk.subarray(0, n));
      if (n < chunk.length) this.#toClient.unshift(chunk.subarray(n));
      return n;
    };
    const next = this.#toClient.shift();
    if (next) return Promise.resolve(give(next));
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve) => {
      this.#clientRead = (chunk) => resolve(give(chunk));
    });
  }
  write(p: Uint8Array): Promise<number> {
    if (this.closed) return Promise.reject(new Error("socket closed"));
    const joined = new Uint8Array(this.#fromClient.length + p.length);
    joined.set(this.#fromClient);
    joined.set(p, this.#fromClient.length);
    this.#fromClient = joined;
    this.#clientWrote?.();
    return Promise.resolve(p.length);
  }
  close(): void {
    this.end();
  }

  // ---- server side (the test) ----
  /** Sends bytes to the client. */
  send(...chunks: Uint8Array[]): void {
    for (const c of chunks) {
      if (this.#clientRead) {
        const r = this.#clientRead;
        this.#clientRead = null;
        r(c);
      } else {
        this.#toClient.push(c);
      }
    }
  }
  /** EOF towards the client. */
  end(): void {
    this.closed = true;
    const r = this.#clientRead;
    this.#clientRead = null;
    r?.(null);
    this.#clientWrote?.();
  }
  /** The next frame the client sent (after its preface), waiting for it if need be. */
  async nextFrame(): Promise<TestFrame> {
    for (let i = 0; i < 10_000; i++) {
      const plen = CLIENT_PREFACE.length;
      if (!this.#prefaceSeen && this.#fromClient.length >= plen) {
        const preface = new TextDecoder().decode(this.#fromClient.subarray(0, plen));
        if (preface !== CLIENT_PREFACE) throw new Error("bad preface");
        this.#fromClient = this.#fromClient.subarray(plen);
        this.#prefaceSeen = true;
      }
      const taken = this.#prefaceSeen ? takeFrame(this.#fromClient) : null;
      if (taken) {
        this.#fromClient = taken.rest;
        return taken.next;
      }
      if (this.closed) throw new Error("client closed the socket");
      // Bounded: a client that stops writing fails the test instead of hanging it.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const wrote = await new Promise<boolean>((resolve) => {
        this.#clientWrote = () => resolve(true);
        timer = setTimeout(() => resolve(false), 2000);
      });
      clearTimeout(timer);
      if (!wrote) throw new Error("client sent nothing for 2 s");
    }
    throw new Error("no frame");
  }
  /** Skips frames until one of `type` arrives. */
  async nextOf(type: number, predicate: (f: TestFrame) => boolean = () => true) {
    for (let i = 0; i < 10_000; i++) {
      const f = await this.nextFrame();
      if (f.type === type && predicate(f)) return f;
    }
    throw new Error(`no frame of type ${type}`);
  }
}

/** A connector handing out fresh fake sockets, recording each. */
export function fakeConnector(): {
  connect: Connector;
  sockets: FakeSocket[];
  next: () => Promise<FakeSocket>;
} {
  const sockets: FakeSocket[] = [];
  const waiters: Array<(s: FakeSocket) => void> = [];
  const connect: Connector = () => {
    const s = new FakeSocket();
    sockets.push(s);
    waiters.shift()?.(s);
    return Promise.resolve(s);
  };
  let taken = 0;
  const next = () => {
    const have = sockets[taken];
    taken += 1;
    if (have) return Promise.resolve(have);
    return new Promise<FakeSocket>((resolve) => waiters.push(resolve));
  };
  return { connect, sockets, next };
}
