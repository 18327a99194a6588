/**
 * One HTTP/2 cleartext connection (prior knowledge, RFC 9113 §3.3) to a gRPC server: the read
 * loop, batched writes, flow control in both directions, SETTINGS/PING/GOAWAY handling and
 * MAX_CONCURRENT_STREAMS queueing. It never rejects a promise it hands out: every stream ends
 * with exactly one `StreamOutcome`, whatever happens to the socket.
 *
 * The server is not trusted: whatever it sends, this side holds at most one frame of input, one
 * header block of {@linkcode MAX_HEADER_BLOCK_SIZE}, {@linkcode CONN_RECV_WINDOW} of response
 * bodies and {@linkcode MAX_PENDING_REPLIES} unwritten replies; past any of these the connection
 * ends with the fitting HTTP/2 error (RFC 9113 §5.4.1) and its calls fail at once.
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
import { H2Stream, MAX_HEADER_LIST_SIZE, type StreamOutcome } from "./stream.ts";

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

/**
 * Receive window of each stream (SETTINGS_INITIAL_WINDOW_SIZE, RFC 9113 §6.9.2): large, to save
 * round trips on bigger bodies, and topped up only as far as the response may still need (one
 * message of at most 4 MiB), so DATA past it is a FLOW_CONTROL_ERROR.
 */
export const STREAM_RECV_WINDOW = 1 << 20;
/**
 * Receive window of the connection. Octets are credited back once consumed: at once when dropped
 * (padding, DATA of streams already ended), and when their stream ends when they were buffered
 * for it. So this bounds the response bytes one connection holds: one largest response and more.
 */
export const CONN_RECV_WINDOW = 8 << 20;
// Consumed octets are credited in batches: one WINDOW_UPDATE per this many.
const CONN_CREDIT_BATCH = CONN_RECV_WINDOW / 4;
/**
 * Largest header block (HEADERS + CONTINUATION payloads) accepted. It equals the advertised
 * SETTINGS_MAX_HEADER_LIST_SIZE, and an encoded block is smaller than its list as §6.5.2 counts
 * it, so only a server that ignores the setting goes past it: PROTOCOL_ERROR, as grpc-go's own
 * HTTP/2 layer answers an oversized block (RFC 9113 §10.5.1 lets the receiver choose).
 */
export const MAX_HEADER_BLOCK_SIZE = MAX_HEADER_LIST_SIZE;
/**
 * Most frames one header block may span. Empty CONTINUATION frames add no octets but cost work
 * per frame; past this many, the block is a flood: ENHANCE_YOUR_CALM (§10.5).
 */
export const MAX_HEADER_BLOCK_FRAMES = 32;
/**
 * Most replies queued but not yet written: PING and SETTINGS acknowledgements, and the stream
 * WINDOW_UPDATEs that DATA frames (tiny padded ones: one each) call for. A peer that sends more
 * while not reading them would grow the write queue without end (§10.5 names PING and
 * SETTINGS): ENHANCE_YOUR_CALM.
 */
export const MAX_PENDING_REPLIES = 256;
/**
 * How long queued frames (a connection error's GOAWAY, the last frames before a close) may take
 * to leave before the socket closes anyway: a peer that reads nothing would hold them forever.
 */
export const WRITE_GRACE_MS = 1_000;
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
  // A connection error happened: no new streams; GOAWAY is on its way, then the socket closes.
  #broken = false;

  // Peer settings (RFC 9113 §6.5.2 defaults until its SETTINGS frame arrives).
  #peerMaxConcurrent = Infinity;
  #peerInitialWindow = DEFAULT_WINDOW_SIZE;
  #peerMaxFrameSize = DEFAULT_MAX_FRAME_SIZE;
  #connSendWindow = DEFAULT_WINDOW_SIZE;
  // Receive side: what the server may still send, and consumed octets not yet credited back.
  #connRecvWindow = CONN_RECV_WINDOW;
  #connConsumed = 0;

  // The request blocks use no dynamic table; the only encoder state is telling the peer's
  // decoder that its table shrank (RFC 7541 §4.2): the size it was last told, and the lowest
  // SETTINGS_HEADER_TABLE_SIZE announced below that since (-1: none).
  #signalledTableSize = HEADER_TABLE_SIZE;
  #pendingTableSize = -1;

  // A header block split over HEADERS + CONTINUATION frames.
  #blockStream = 0;
  #blockEndStream = false;
  #blockParts: Uint8Array[] = [];
  #blockSize = 0;
  #blockFrames = 0;

  // Replies (see MAX_PENDING_REPLIES) queued so far, and how many of them have been written.
  #repliesQueued = 0;
  #repliesWritten = 0;

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
    // SETTINGS_MAX_FRAME_SIZE stays at its default: the reader holds one such frame.
    const settings = encodeSettings([
      [Setting.ENABLE_PUSH, 0],
      [Setting.INITIAL_WINDOW_SIZE, STREAM_RECV_WINDOW],
      [Setting.MAX_HEADER_LIST_SIZE, MAX_HEADER_LIST_SIZE],
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
    return !this.#closed && !this.#goingAway && !this.#broken &&
      this.#nextStreamId <= LAST_CLIENT_STREAM_ID;
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
   * client's GOAWAY arrives on a connection that has carried more than ~150 calls. Frames
   * already queued get {@linkcode WRITE_GRACE_MS} to leave: a peer that reads nothing cannot
   * hold the close.
   */
  async close(): Promise<void> {
    if (!this.#closed) {
      await this.#drainWrites();
      this.#shutdown("channel closed");
    }
    await this.#readDone;
  }

  #open(stream: H2Stream): void {
    stream.id = this.#nextStreamId;
    this.#nextStreamId += 2;
    stream.sendWindow = this.#peerInitialWindow;
    stream.recvWindow = STREAM_RECV_WINDOW;
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
    this.#forget(stream);
    while (this.#queued.length > 0 && this.#streams.size < this.#peerMaxConcurrent) {
      const next = this.#queued.shift()!;
      if (this.available) this.#open(next);
      else next.finish({ kind: "refused", reason: "connection is closing" });
    }
    if (this.#goingAway && this.#streams.size === 0) this.#shutdown("drained after GOAWAY");
  }

  // The stream's body has been handed over or dropped: its octets are consumed (§6.9.1).
  #forget(stream: H2Stream): void {
    if (this.#streams.delete(stream.id)) this.#consumeConn(stream.bodyBytes);
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
    const replies = this.#repliesQueued;
    this.#writing = this.#writing.then(() => this.#writeAll(bytes, replies));
  }

  // Writes one batch; `replies` is how many acknowledgements have been queued up to its end.
  async #writeAll(bytes: Uint8Array, replies: number): Promise<void> {
    try {
      let off = 0;
      while (off < bytes.length && !this.#closed) {
        off += await this.#conn.write(bytes.subarray(off));
      }
      this.#repliesWritten = replies;
    } catch (err) {
      this.#shutdown(`write failed: ${errorText(err)}`);
    }
  }

  // ---- reading ----

  // Reads straight into the frame reader's buffer: no other input buffer exists.
  async #readLoop(): Promise<void> {
    let reason = "server closed the connection";
    try {
      while (!this.#closed) {
        const n = await this.#conn.read(this.#reader.space());
        if (n === null) break;
        this.#reader.commit(n);
        for (let f = this.#reader.next(); f !== null && !this.#closed; f = this.#reader.next()) {
          this.#onFrame(f);
        }
      }
    } catch (err) {
      if (err instanceof FrameError || err instanceof HpackError) {
        reason = `protocol error: ${err.message}`;
        const code = err instanceof FrameError ? err.code : ErrorCode.COMPRESSION_ERROR;
        await this.#goAway(code, reason);
      } else if (!this.#closed) {
        reason = `read failed: ${errorText(err)}`;
      }
    }
    this.#shutdown(reason);
  }

  // A connection error (RFC 9113 §5.4.1): calls in flight fail at once, GOAWAY with the error
  // code is sent (for at most WRITE_GRACE_MS), then the caller closes the socket.
  async #goAway(code: number, reason: string): Promise<void> {
    if (this.#closed) return;
    this.#log.warn("grpc server broke the HTTP/2 protocol; closing the connection", {
      code,
      error: reason,
    });
    this.#broken = true;
    this.#endStreams(reason);
    this.#send(encodeGoaway(code));
    await this.#drainWrites();
  }

  // Flushes the queue and waits until everything is written, or WRITE_GRACE_MS has passed.
  async #drainWrites(): Promise<void> {
    this.#flushNow();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const grace = new Promise<void>((resolve) => timer = setTimeout(resolve, WRITE_GRACE_MS));
    await Promise.race([this.#writing, grace]);
    clearTimeout(timer);
  }

  // Queues a reply the peer's frame calls for, unless too many are waiting to be written
  // already. Throws FrameError: only for the read loop.
  #reply(frame: Uint8Array, what: string): void {
    if (this.#repliesQueued - this.#repliesWritten >= MAX_PENDING_REPLIES) {
      throw new FrameError(
        ErrorCode.ENHANCE_YOUR_CALM,
        `${what} flood: over ${MAX_PENDING_REPLIES} replies queued and not yet written`,
      );
    }
    this.#repliesQueued += 1;
    this.#send(frame);
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
          this.#reply(encodeFrame(FrameType.PING, Flag.ACK, 0, f.payload.slice()), "PING");
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
    if (f.streamId === 0) throw new FrameError(ErrorCode.PROTOCOL_ERROR, "DATA on stream 0");
    // The whole payload counts against both windows, padding included (RFC 9113 §6.9.1).
    const size = f.payload.length;
    if (size > this.#connRecvWindow) {
      throw new FrameError(
        ErrorCode.FLOW_CONTROL_ERROR,
        `DATA of ${size} octets exceeds the connection's window of ${this.#connRecvWindow}`,
      );
    }
    this.#connRecvWindow -= size;
    const stream = this.#streams.get(f.streamId);
    if (!stream) {
      // A stream this side has ended: dropped, so credited at once, or the window leaks shut.
      this.#consumeConn(size);
      return;
    }
    if (size > stream.recvWindow) {
      throw new FrameError(
        ErrorCode.FLOW_CONTROL_ERROR,
        `DATA of ${size} octets exceeds stream ${stream.id}'s window of ${stream.recvWindow}`,
      );
    }
    stream.recvWindow -= size;
    const body = unpaddedPayload(f);
    this.#consumeConn(size - body.length); // padding is never kept
    const end = (f.flags & Flag.END_STREAM) !== 0;
    stream.onData(body, end);
    if (stream.done) {
      if (!end) this.#send(encodeRstStream(stream.id, ErrorCode.CANCEL));
      this.#endStream(stream);
      return;
    }
    this.#creditStream(stream);
  }

  // Tops the stream's window back up once half of it is used, but never past what its response
  // may still bring: a server cannot make one stream buffer more than one message.
  #creditStream(stream: H2Stream): void {
    if (stream.recvWindow >= STREAM_RECV_WINDOW / 2) return;
    const target = Math.min(STREAM_RECV_WINDOW, stream.wantedBytes);
    if (target <= stream.recvWindow) return;
    this.#reply(encodeWindowUpdate(stream.id, target - stream.recvWindow), "DATA");
    stream.recvWindow = target;
  }

  // `n` received octets are no longer held: credit them back to the connection, in batches.
  #consumeConn(n: number): void {
    this.#connConsumed += n;
    if (this.#connConsumed < CONN_CREDIT_BATCH || this.#closed || this.#broken) return;
    this.#send(encodeWindowUpdate(0, this.#connConsumed));
    this.#connRecvWindow += this.#connConsumed;
    this.#connConsumed = 0;
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
    this.#blockSize = fragment.length;
    this.#blockFrames = 1;
  }

  #onContinuation(f: Frame): void {
    if (this.#blockStream === 0 || f.streamId !== this.#blockStream) {
      throw new FrameError(ErrorCode.PROTOCOL_ERROR, "unexpected CONTINUATION");
    }
    this.#blockSize += f.payload.length;
    this.#blockFrames += 1;
    if (this.#blockSize > MAX_HEADER_BLOCK_SIZE) {
      throw new FrameError(
        ErrorCode.PROTOCOL_ERROR,
        `header block larger than ${MAX_HEADER_BLOCK_SIZE} octets`,
      );
    }
    if (this.#blockFrames > MAX_HEADER_BLOCK_FRAMES) {
      throw new FrameError(
        ErrorCode.ENHANCE_YOUR_CALM,
        `header block spread over more than ${MAX_HEADER_BLOCK_FRAMES} frames`,
      );
    }
    if (f.payload.length > 0) this.#blockParts.push(f.payload.slice());
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
    this.#reply(encodeFrame(FrameType.SETTINGS, Flag.ACK, 0), "SETTINGS");
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
        this.#forget(s);
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
    this.#endStreams(reason);
    try {
      this.#conn.close();
    } catch {
      // already closed by the peer or the runtime
    }
    this.#log.debug("grpc connection closed", { reason });
    for (const listener of this.#closedListeners.splice(0)) listener();
  }

  // Open streams are lost (the server may have processed them); queued ones were never sent,
  // so they are refused and may be retried on another connection.
  #endStreams(reason: string): void {
    for (const s of this.#streams.values()) s.finish({ kind: "lost", reason });
    for (const s of this.#queued.splice(0)) s.finish({ kind: "refused", reason });
    this.#streams.clear();
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
