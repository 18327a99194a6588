/**
 * One HTTP/2 cleartext connection (prior knowledge, RFC 9113 §3.3) to a gRPC server: the read
 * loop, batched writes, flow control in both directions, SETTINGS/PING/GOAWAY handling and
 * MAX_CONCURRENT_STREAMS queueing. It never rejects a promise it hands out: every stream ends
 * with exactly one `StreamOutcome`, whatever happens to the socket.
 */
import type { Logger } from "../../observability/mod.ts";
import {
  CLIENT_PREFACE,
  decodeSettings,
  DEFAULT_MAX_FRAME_SIZE,
  DEFAULT_WINDOW_SIZE,
  encodeFrame,
  encodeGoaway,
  encodeHeadersAndData,
  encodeRstStream,
  encodeSettings,
  encodeWindowUpdate,
  ErrorCode,
  Flag,
  type Frame,
  FrameError,
  FrameReader,
  FrameType,
  MAX_WINDOW_SIZE,
  readUint32,
  Setting,
  unpaddedPayload,
  writeFrameHeader,
} from "./frames.ts";
import { encodeTableSizeUpdate, HEADER_TABLE_SIZE, HeaderDecoder, HpackError } from "./hpack.ts";
import { H2Stream, type StreamOutcome } from "./stream.ts";

/** The byte stream a connection runs over (`Deno.TcpConn` fits). */
export interface ByteConn {
  /** Reads into `p`; resolves with the byte count, or `null` at end of stream. */
  read(p: Uint8Array): Promise<number | null>;
  /** Writes from `p`; resolves with how many bytes were written (possibly fewer). */
  write(p: Uint8Array): Promise<number>;
  /** Closes the stream. */
  close(): void;
}

/** Liveness probing: a call that times out asks the connection to prove it is still there. */
export interface ProbeOptions {
  /** Monotonic milliseconds. */
  readonly now: () => number;
  /** An unanswered probe PING older than this marks the connection dead. */
  readonly pingTimeoutMs: number;
}

/** A started or queued stream, as seen by the call that owns it. */
export interface StreamHandle {
  /** Abandons the call: RST_STREAM(CANCEL) if sent, else dropped from the queue. */
  cancel(): void;
}

// Receive windows this client advertises. Responses are small, so these are rarely topped up;
// large ones avoid a round trip per 64 KiB on bigger bodies.
const STREAM_RECV_WINDOW = 1 << 20;
const CONN_RECV_WINDOW = 4 << 20;
const READ_BUFFER_SIZE = 64 * 1024;
// At most one probe PING per this interval: grpc-go servers count pings closer together than
// 5 minutes (without data sent in between) as strikes and close the connection after three.
const PROBE_INTERVAL_MS = 60_000;
const PROBE_PAYLOAD = new TextEncoder().encode("gatehous");
// Stream ids are 31-bit; a connection close to running out stops taking new streams.
const LAST_CLIENT_STREAM_ID = MAX_WINDOW_SIZE - 2;

/** One connection; created by the channel, used until it is closed or told to go away. */
export class H2Connection {
  readonly #conn: ByteConn;
  readonly #log: Logger;
  readonly #decoder = new HeaderDecoder();
  readonly #reader = new FrameReader(DEFAULT_MAX_FRAME_SIZE);
  readonly #streams = new Map<number, H2Stream>();
  readonly #queued: H2Stream[] = [];
  #nextStreamId = 1;
  #closed = false;
  #goingAway = false;

  // Peer settings (RFC 9113 §6.5.2 defaults until its SETTINGS frame arrives).
  #peerMaxConcurrent = Infinity;
  #peerInitialWindow = DEFAULT_WINDOW_SIZE;
  #peerMaxFrameSize = DEFAULT_MAX_FRAME_SIZE;
  #connSendWindow = DEFAULT_WINDOW_SIZE;
  #connUnackedRecv = 0;

  // The request blocks use no dynamic table; the only encoder state is telling the peer's
  // decoder that its table shrank (RFC 7541 §4.2): the size it was last told, and the lowest
  // SETTINGS_HEADER_TABLE_SIZE announced below that since (-1: none).
  #signalledTableSize = HEADER_TABLE_SIZE;
  #pendingTableSize = -1;

  // A header block split over HEADERS + CONTINUATION frames.
  #blockStream = 0;
  #blockEndStream = false;
  #blockParts: Uint8Array[] = [];

  #out: Uint8Array[] = [];
  #flushScheduled = false;
  #writing: Promise<void> = Promise.resolve();
  readonly #readDone: Promise<void>;
  readonly #closedListeners: Array<() => void> = [];

  readonly #probe: ProbeOptions;
  #pingSentAt = -1;
  #lastProbeAt = -Infinity;

  constructor(conn: ByteConn, logger: Logger, probe: ProbeOptions) {
    this.#conn = conn;
    this.#log = logger;
    this.#probe = probe;
    const settings = encodeSettings([
      [Setting.ENABLE_PUSH, 0],
      [Setting.INITIAL_WINDOW_SIZE, STREAM_RECV_WINDOW],
    ]);
    this.#send(CLIENT_PREFACE);
    this.#send(settings);
    this.#send(encodeWindowUpdate(0, CONN_RECV_WINDOW - DEFAULT_WINDOW_SIZE));
    this.#readDone = this.#readLoop();
  }

  /** Whether new calls may start here (not closed, no GOAWAY, stream ids left). */
  get available(): boolean {
    if (this.#pingSentAt >= 0 && this.#probe.now() - this.#pingSentAt > this.#probe.pingTimeoutMs) {
      // A peer that cannot answer a PING is gone (host down, network cut): without this, every
      // call would pay its full timeout until TCP gives up, many minutes later.
      this.#shutdown(`no answer to PING within ${this.#probe.pingTimeoutMs} ms`);
    }
    return !this.#closed && !this.#goingAway && this.#nextStreamId <= LAST_CLIENT_STREAM_ID;
  }

  /**
   * Called when a call on this connection timed out: sends a PING (at most one outstanding, at
   * most one per minute) whose missing answer later marks the connection dead.
   */
  probe(): void {
    const now = this.#probe.now();
    if (this.#closed || this.#pingSentAt >= 0 || now - this.#lastProbeAt < PROBE_INTERVAL_MS) {
      return;
    }
    this.#pingSentAt = now;
    this.#lastProbeAt = now;
    this.#send(encodeFrame(FrameType.PING, 0, 0, PROBE_PAYLOAD));
  }

  /** Runs `listener` once when the connection has closed (at once if it already has). */
  onClosed(listener: () => void): void {
    if (this.#closed) listener();
    else this.#closedListeners.push(listener);
  }

  /** Starts (or queues, past the peer's MAX_CONCURRENT_STREAMS) one request stream. */
  startStream(
    headerBlock: Uint8Array,
    body: Uint8Array,
    onOutcome: (outcome: StreamOutcome) => void,
  ): StreamHandle {
    const stream = new H2Stream(headerBlock, body, onOutcome);
    if (!this.available) {
      stream.finish({ kind: "refused", reason: "connection is closing" });
    } else if (this.#streams.size >= this.#peerMaxConcurrent) {
      this.#queued.push(stream);
    } else {
      this.#open(stream);
    }
    return { cancel: () => this.#cancel(stream) };
  }

  /**
   * Closes the socket; calls still running end as `lost`. Resolves when the reader has stopped.
   * No GOAWAY is sent first: a client that accepts no pushed streams loses nothing without it,
   * and a grpc-js server under Deno aborts the whole process (`free(): invalid pointer`) when a
   * client's GOAWAY arrives on a connection that has carried more than ~150 calls.
   */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#flushNow();
      await this.#writing;
      this.#shutdown("channel closed");
    }
    await this.#readDone;
  }

  #open(stream: H2Stream): void {
    stream.id = this.#nextStreamId;
    this.#nextStreamId += 2;
    stream.sendWindow = this.#peerInitialWindow;
    this.#streams.set(stream.id, stream);
    this.#sendRequest(stream);
  }

  // The common case — block within one frame, body within every window — leaves as one array;
  // anything else goes frame by frame.
  #sendRequest(stream: H2Stream): void {
    const block = this.#headerBlock(stream);
    const body = stream.body;
    const room = Math.min(stream.sendWindow, this.#connSendWindow, this.#peerMaxFrameSize);
    if (block.length <= this.#peerMaxFrameSize && body.length > 0 && body.length <= room) {
      this.#send(encodeHeadersAndData(stream.id, block, body));
      stream.bodyOffset = body.length;
      stream.sendWindow -= body.length;
      this.#connSendWindow -= body.length;
      return;
    }
    this.#sendHeaders(stream.id, block);
    this.#sendBody(stream);
  }

  // The stream's block, after a dynamic table size update if one is owed.
  #headerBlock(stream: H2Stream): Uint8Array {
    if (this.#pendingTableSize < 0) return stream.headerBlock;
    const update = encodeTableSizeUpdate(this.#pendingTableSize);
    this.#signalledTableSize = this.#pendingTableSize;
    this.#pendingTableSize = -1;
    return concat([update, stream.headerBlock]);
  }

  #sendHeaders(streamId: number, block: Uint8Array): void {
    const max = this.#peerMaxFrameSize;
    if (block.length <= max) {
      this.#send(encodeFrame(FrameType.HEADERS, Flag.END_HEADERS, streamId, block));
      return;
    }
    // A block larger than one frame continues in CONTINUATION frames, nothing in between.
    this.#send(encodeFrame(FrameType.HEADERS, 0, streamId, block.subarray(0, max)));
    for (let at = max; at < block.length; at += max) {
      const last = at + max >= block.length;
      const part = block.subarray(at, at + max);
      this.#send(encodeFrame(FrameType.CONTINUATION, last ? Flag.END_HEADERS : 0, streamId, part));
    }
  }

  // Sends as much of the body as both windows allow; the rest waits for WINDOW_UPDATE.
  #sendBody(stream: H2Stream): void {
    const body = stream.body;
    while (stream.bodyOffset < body.length) {
      const room = Math.min(stream.sendWindow, this.#connSendWindow, this.#peerMaxFrameSize);
      if (room <= 0) return;
      const n = Math.min(room, body.length - stream.bodyOffset);
      const end = stream.bodyOffset + n === body.length;
      const frame = new Uint8Array(9 + n);
      writeFrameHeader(frame, 0, n, FrameType.DATA, end ? Flag.END_STREAM : 0, stream.id);
      frame.set(body.subarray(stream.bodyOffset, stream.bodyOffset + n), 9);
      this.#send(frame);
      stream.bodyOffset += n;
      stream.sendWindow -= n;
      this.#connSendWindow -= n;
    }
  }

  #cancel(stream: H2Stream): void {
    if (stream.id === 0) {
      const i = this.#queued.indexOf(stream);
      if (i >= 0) this.#queued.splice(i, 1);
      stream.finish({ kind: "lost", reason: "cancelled" });
      return;
    }
    if (!this.#streams.has(stream.id)) return;
    stream.finish({ kind: "lost", reason: "cancelled" });
    this.#endStream(stream);
    if (!this.#closed) this.#send(encodeRstStream(stream.id, ErrorCode.CANCEL));
  }

  // Forgets a finished stream; frames still arriving for it are handled as for unknown ids.
  #endStream(stream: H2Stream): void {
    this.#streams.delete(stream.id);
    while (this.#queued.length > 0 && this.#streams.size < this.#peerMaxConcurrent) {
      const next = this.#queued.shift()!;
      if (this.available) this.#open(next);
      else next.finish({ kind: "refused", reason: "connection is closing" });
    }
    if (this.#goingAway && this.#streams.size === 0) this.#shutdown("drained after GOAWAY");
  }

  // ---- writing ----

  // Frames queued in one turn of the event loop leave in one write (a call's HEADERS and DATA
  // together, which matters on a TCP_NODELAY socket).
  #send(frame: Uint8Array): void {
    if (this.#closed) return;
    this.#out.push(frame);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      queueMicrotask(() => this.#flushNow());
    }
  }

  #flushNow(): void {
    this.#flushScheduled = false;
    if (this.#out.length === 0 || this.#closed) return;
    const frames = this.#out;
    this.#out = [];
    const bytes = frames.length === 1 ? frames[0]! : concat(frames);
    this.#writing = this.#writing.then(() => this.#writeAll(bytes));
  }

  async #writeAll(bytes: Uint8Array): Promise<void> {
    try {
      let off = 0;
      while (off < bytes.length && !this.#closed) {
        off += await this.#conn.write(bytes.subarray(off));
      }
    } catch (err) {
      this.#shutdown(`write failed: ${errorText(err)}`);
    }
  }

  // ---- reading ----

  async #readLoop(): Promise<void> {
    const buf = new Uint8Array(READ_BUFFER_SIZE);
    let reason = "server closed the connection";
    try {
      while (!this.#closed) {
        const n = await this.#conn.read(buf);
        if (n === null) break;
        this.#reader.push(buf.subarray(0, n));
        for (let f = this.#reader.next(); f !== null && !this.#closed; f = this.#reader.next()) {
          this.#onFrame(f);
        }
      }
    } catch (err) {
      if (err instanceof FrameError || err instanceof HpackError) {
        const code = err instanceof FrameError ? err.code : ErrorCode.COMPRESSION_ERROR;
        this.#send(encodeGoaway(code));
        this.#flushNow();
        await this.#writing;
        reason = `protocol error: ${err.message}`;
      } else if (!this.#closed) {
        reason = `read failed: ${errorText(err)}`;
      }
    }
    this.#shutdown(reason);
  }

  #onFrame(f: Frame): void {
    if (this.#blockStream !== 0 && f.type !== FrameType.CONTINUATION) {
      throw new FrameError(ErrorCode.PROTOCOL_ERROR, "frame interleaved in a header block");
    }
    switch (f.type) {
      case FrameType.DATA:
        return this.#onData(f);
      case FrameType.HEADERS:
        return this.#onHeaders(f);
      case FrameType.CONTINUATION:
        return this.#onContinuation(f);
      case FrameType.RST_STREAM:
        return this.#onRstStream(f);
      case FrameType.SETTINGS:
        return this.#onSettings(f);
      case FrameType.PING:
        // The Go server's bandwidth estimator pings on nearly every call; unanswered pings
        // stall its flow-control window growth.
        if (f.payload.length !== 8) throw new FrameError(ErrorCode.FRAME_SIZE_ERROR, "PING size");
        if (!(f.flags & Flag.ACK)) {
          this.#send(encodeFrame(FrameType.PING, Flag.ACK, 0, f.payload.slice()));
        } else {
          this.#pingSentAt = -1; // the only PING this client sends is the probe
        }
        return;
      case FrameType.GOAWAY:
        return this.#onGoaway(f);
      case FrameType.WINDOW_UPDATE:
        return this.#onWindowUpdate(f);
      case FrameType.PUSH_PROMISE:
        throw new FrameError(ErrorCode.PROTOCOL_ERROR, "PUSH_PROMISE although push is disabled");
      default:
        return; // PRIORITY and unknown types are ignored (RFC 9113 §4.1, §5.5)
    }
  }

  #onData(f: Frame): void {
    // Connection-level credit is owed for every DATA frame, including padding and frames of
    // streams this side has already cancelled — otherwise the window leaks shut.
    this.#connUnackedRecv += f.payload.length;
    if (this.#connUnackedRecv >= CONN_RECV_WINDOW / 2) {
      this.#send(encodeWindowUpdate(0, this.#connUnackedRecv));
      this.#connUnackedRecv = 0;
    }
    const stream = this.#streams.get(f.streamId);
    if (!stream) return;
    const end = (f.flags & Flag.END_STREAM) !== 0;
    stream.onData(unpaddedPayload(f), end);
    if (stream.done) {
      if (!end) this.#send(encodeRstStream(stream.id, ErrorCode.CANCEL));
      this.#endStream(stream);
      return;
    }
    stream.unackedRecv += f.payload.length;
    if (stream.unackedRecv >= STREAM_RECV_WINDOW / 2) {
      this.#send(encodeWindowUpdate(stream.id, stream.unackedRecv));
      stream.unackedRecv = 0;
    }
  }

  #onHeaders(f: Frame): void {
    if (f.streamId === 0) throw new FrameError(ErrorCode.PROTOCOL_ERROR, "HEADERS on stream 0");
    const fragment = unpaddedPayload(f);
    const endStream = (f.flags & Flag.END_STREAM) !== 0;
    if (f.flags & Flag.END_HEADERS) {
      this.#onHeaderBlock(f.streamId, fragment, endStream);
      return;
    }
    this.#blockStream = f.streamId;
    this.#blockEndStream = endStream;
    this.#blockParts = [fragment.slice()];
  }

  #onContinuation(f: Frame): void {
    if (this.#blockStream === 0 || f.streamId !== this.#blockStream) {
      throw new FrameError(ErrorCode.PROTOCOL_ERROR, "unexpected CONTINUATION");
    }
    this.#blockParts.push(f.payload.slice());
    if (!(f.flags & Flag.END_HEADERS)) return;
    const id = this.#blockStream;
    const block = concat(this.#blockParts);
    this.#blockStream = 0;
    this.#blockParts = [];
    this.#onHeaderBlock(id, block, this.#blockEndStream);
  }

  // Decoded even when the stream is gone: the decoder's table is shared by the connection.
  #onHeaderBlock(streamId: number, block: Uint8Array, endStream: boolean): void {
    const fields = this.#decoder.decode(block);
    const stream = this.#streams.get(streamId);
    if (!stream) return;
    stream.onHeaders(fields, endStream);
    if (stream.done) {
      if (!endStream) this.#send(encodeRstStream(stream.id, ErrorCode.CANCEL));
      this.#endStream(stream);
    }
  }

  #onRstStream(f: Frame): void {
    if (f.payload.length !== 4) throw new FrameError(ErrorCode.FRAME_SIZE_ERROR, "RST_STREAM size");
    const stream = this.#streams.get(f.streamId);
    if (!stream) return;
    const code = readUint32(f.payload, 0);
    stream.finish(
      code === ErrorCode.REFUSED_STREAM
        ? { kind: "refused", reason: "server refused the stream" }
        : { kind: "lost", reason: `server reset the stream (HTTP/2 error ${code})` },
    );
    this.#endStream(stream);
  }

  #onSettings(f: Frame): void {
    if (f.flags & Flag.ACK) return;
    for (const [id, value] of decodeSettings(f.payload)) {
      switch (id) {
        case Setting.HEADER_TABLE_SIZE:
          // Only shrinking below what the decoder was told needs an update: no entry is used.
          if (value < this.#signalledTableSize) {
            this.#pendingTableSize = this.#pendingTableSize < 0
              ? value
              : Math.min(this.#pendingTableSize, value);
          }
          break;
        case Setting.MAX_CONCURRENT_STREAMS:
          this.#peerMaxConcurrent = value;
          break;
        case Setting.INITIAL_WINDOW_SIZE: {
          if (value > MAX_WINDOW_SIZE) {
            throw new FrameError(ErrorCode.FLOW_CONTROL_ERROR, "initial window too large");
          }
          // The change applies to every open stream's window, even mid-stream (§6.9.2).
          const delta = value - this.#peerInitialWindow;
          this.#peerInitialWindow = value;
          for (const s of this.#streams.values()) s.sendWindow += delta;
          break;
        }
        case Setting.MAX_FRAME_SIZE:
          if (value < DEFAULT_MAX_FRAME_SIZE || value > 0xff_ffff) {
            throw new FrameError(ErrorCode.PROTOCOL_ERROR, "invalid MAX_FRAME_SIZE");
          }
          this.#peerMaxFrameSize = value;
          break;
      }
    }
    this.#send(encodeFrame(FrameType.SETTINGS, Flag.ACK, 0));
    this.#resumeBlockedBodies();
    this.#startQueuedStreams();
  }

  #onWindowUpdate(f: Frame): void {
    if (f.payload.length !== 4) {
      throw new FrameError(ErrorCode.FRAME_SIZE_ERROR, "WINDOW_UPDATE size");
    }
    const increment = readUint32(f.payload, 0) & MAX_WINDOW_SIZE;
    if (f.streamId === 0) {
      this.#connSendWindow += increment;
      this.#resumeBlockedBodies();
      return;
    }
    const stream = this.#streams.get(f.streamId);
    if (!stream) return;
    stream.sendWindow += increment;
    this.#sendBody(stream);
  }

  #resumeBlockedBodies(): void {
    for (const s of this.#streams.values()) {
      if (s.bodyOffset < s.body.length) this.#sendBody(s);
    }
  }

  #startQueuedStreams(): void {
    while (this.#queued.length > 0 && this.#streams.size < this.#peerMaxConcurrent) {
      this.#open(this.#queued.shift()!);
    }
  }

  #onGoaway(f: Frame): void {
    if (f.payload.length < 8) throw new FrameError(ErrorCode.FRAME_SIZE_ERROR, "GOAWAY size");
    const lastStreamId = readUint32(f.payload, 0) & MAX_WINDOW_SIZE;
    const code = readUint32(f.payload, 4);
    if (!this.#goingAway) {
      const debug = new TextDecoder().decode(f.payload.subarray(8, 8 + 200));
      const fields = { code, last_stream_id: lastStreamId, debug: debug || undefined };
      if (code === ErrorCode.NO_ERROR) this.#log.debug("grpc server sent GOAWAY", fields);
      else this.#log.warn("grpc server sent GOAWAY with an error", fields);
    }
    this.#goingAway = true;
    // Streams above last-stream-id were never processed: safe to retry elsewhere.
    for (const s of [...this.#streams.values()]) {
      if (s.id > lastStreamId) {
        s.finish({ kind: "refused", reason: "server is going away" });
        this.#streams.delete(s.id);
      }
    }
    for (const s of this.#queued.splice(0)) {
      s.finish({ kind: "refused", reason: "server is going away" });
    }
    if (this.#streams.size === 0) this.#shutdown("server sent GOAWAY");
  }

  // Ends the connection: open streams are lost, queued ones were never sent (refused), the
  // socket closes, listeners run.
  #shutdown(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#out = [];
    for (const s of this.#streams.values()) s.finish({ kind: "lost", reason });
    for (const s of this.#queued.splice(0)) s.finish({ kind: "refused", reason });
    this.#streams.clear();
    try {
      this.#conn.close();
    } catch {
      // already closed by the peer or the runtime
    }
    this.#log.debug("grpc connection closed", { reason });
    for (const listener of this.#closedListeners.splice(0)) listener();
  }
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (const c of chunks) size += c.length;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
