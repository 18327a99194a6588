/**
 * HTTP/2 frame codec (RFC 9113 §4 and §6): just the frame types a unary gRPC client sends and
 * receives. Frames are built as whole byte arrays so a call's HEADERS and DATA leave in one write.
 */

/** Frame type codes (RFC 9113 §6). */
export const FrameType = {
  DATA: 0x0,
  HEADERS: 0x1,
  PRIORITY: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
} as const;

/** Frame flag bits. ACK shares bit 0x1 with END_STREAM (SETTINGS and PING only). */
export const Flag = {
  END_STREAM: 0x1,
  ACK: 0x1,
  END_HEADERS: 0x4,
  PADDED: 0x8,
  PRIORITY: 0x20,
} as const;

/** SETTINGS parameter identifiers (RFC 9113 §6.5.2). */
export const Setting = {
  HEADER_TABLE_SIZE: 0x1,
  ENABLE_PUSH: 0x2,
  MAX_CONCURRENT_STREAMS: 0x3,
  INITIAL_WINDOW_SIZE: 0x4,
  MAX_FRAME_SIZE: 0x5,
  MAX_HEADER_LIST_SIZE: 0x6,
} as const;

/** Error codes of RST_STREAM and GOAWAY (RFC 9113 §7). */
export const ErrorCode = {
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  INTERNAL_ERROR: 0x2,
  FLOW_CONTROL_ERROR: 0x3,
  FRAME_SIZE_ERROR: 0x6,
  REFUSED_STREAM: 0x7,
  CANCEL: 0x8,
  COMPRESSION_ERROR: 0x9,
  ENHANCE_YOUR_CALM: 0xb,
} as const;

/** The client connection preface (RFC 9113 §3.4), sent before the first SETTINGS frame. */
export const CLIENT_PREFACE: Uint8Array = new TextEncoder().encode(
  "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
);

/** Every frame starts with a 9-octet header: length (24), type (8), flags (8), stream id (31). */
export const FRAME_HEADER_SIZE = 9;
/** The protocol's default and minimum SETTINGS_MAX_FRAME_SIZE. */
export const DEFAULT_MAX_FRAME_SIZE = 16_384;
/** The default initial flow-control window of connections and streams. */
export const DEFAULT_WINDOW_SIZE = 65_535;
/** Largest legal flow-control window (and stream id): 2^31 - 1. */
export const MAX_WINDOW_SIZE = 0x7fff_ffff;

/** One received frame; `payload` is a view into the read buffer, valid until the next read. */
export interface Frame {
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
  readonly payload: Uint8Array;
}

/** A violation of the framing layer; the connection cannot continue after it. */
export class FrameError extends Error {
  override readonly name = "FrameError";
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }
}

/** Builds one frame: header plus payload. */
export function encodeFrame(
  type: number,
  flags: number,
  streamId: number,
  payload: Uint8Array = new Uint8Array(0),
): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_SIZE + payload.length);
  writeFrameHeader(out, 0, payload.length, type, flags, streamId);
  out.set(payload, FRAME_HEADER_SIZE);
  return out;
}

/**
 * A request's HEADERS frame (the whole block, END_HEADERS) and its DATA frame (the whole body,
 * END_STREAM) in one array: one allocation, one copy, one write.
 */
export function encodeHeadersAndData(
  streamId: number,
  headerBlock: Uint8Array,
  body: Uint8Array,
): Uint8Array {
  const dataAt = FRAME_HEADER_SIZE + headerBlock.length;
  const out = new Uint8Array(dataAt + FRAME_HEADER_SIZE + body.length);
  writeFrameHeader(out, 0, headerBlock.length, FrameType.HEADERS, Flag.END_HEADERS, streamId);
  out.set(headerBlock, FRAME_HEADER_SIZE);
  writeFrameHeader(out, dataAt, body.length, FrameType.DATA, Flag.END_STREAM, streamId);
  out.set(body, dataAt + FRAME_HEADER_SIZE);
  return out;
}

/** Writes a frame header at `offset` of `out`. */
export function writeFrameHeader(
  out: Uint8Array,
  offset: number,
  length: number,
  type: number,
  flags: number,
  streamId: number,
): void {
  out[offset] = (length >>> 16) & 0xff;
  out[offset + 1] = (length >>> 8) & 0xff;
  out[offset + 2] = length & 0xff;
  out[offset + 3] = type;
  out[offset + 4] = flags;
  new DataView(out.buffer, out.byteOffset + offset + 5, 4).setUint32(0, streamId & MAX_WINDOW_SIZE);
}

/** A SETTINGS frame carrying `settings` as (identifier, value) pairs. */
export function encodeSettings(settings: ReadonlyArray<readonly [number, number]>): Uint8Array {
  const payload = new Uint8Array(settings.length * 6);
  const view = new DataView(payload.buffer);
  settings.forEach(([id, value], i) => {
    view.setUint16(i * 6, id);
    view.setUint32(i * 6 + 2, value);
  });
  return encodeFrame(FrameType.SETTINGS, 0, 0, payload);
}

/** Decodes a SETTINGS payload into (identifier, value) pairs. */
export function decodeSettings(payload: Uint8Array): Array<[number, number]> {
  if (payload.length % 6 !== 0) {
    throw new FrameError(ErrorCode.FRAME_SIZE_ERROR, "SETTINGS payload not a multiple of 6");
  }
  const view = new DataView(payload.buffer, payload.byteOffset, payload.length);
  const out: Array<[number, number]> = [];
  for (let i = 0; i < payload.length; i += 6) out.push([view.getUint16(i), view.getUint32(i + 2)]);
  return out;
}

/** A WINDOW_UPDATE frame granting `increment` octets on `streamId` (0 = the connection). */
export function encodeWindowUpdate(streamId: number, increment: number): Uint8Array {
  const payload = new Uint8Array(4);
  new DataView(payload.buffer).setUint32(0, increment & MAX_WINDOW_SIZE);
  return encodeFrame(FrameType.WINDOW_UPDATE, 0, streamId, payload);
}

/** An RST_STREAM frame. */
export function encodeRstStream(streamId: number, code: number): Uint8Array {
  const payload = new Uint8Array(4);
  new DataView(payload.buffer).setUint32(0, code);
  return encodeFrame(FrameType.RST_STREAM, 0, streamId, payload);
}

/** A GOAWAY frame (the client never accepts pushed streams, so last-stream-id is 0). */
export function encodeGoaway(code: number): Uint8Array {
  const payload = new Uint8Array(8);
  new DataView(payload.buffer).setUint32(4, code);
  return encodeFrame(FrameType.GOAWAY, 0, 0, payload);
}

/** Reads the 32-bit big-endian value at `offset` of `bytes`. */
export function readUint32(bytes: Uint8Array, offset: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset + offset, 4).getUint32(0);
}

/**
 * The payload of a HEADERS or DATA frame without its padding and priority fields
 * (RFC 9113 §6.1, §6.2).
 */
export function unpaddedPayload(frame: Frame): Uint8Array {
  let start = 0;
  let end = frame.payload.length;
  if (frame.flags & Flag.PADDED) {
    if (end < 1) throw new FrameError(ErrorCode.PROTOCOL_ERROR, "padded frame without pad length");
    end -= frame.payload[0] ?? 0;
    start = 1;
  }
  if (frame.type === FrameType.HEADERS && frame.flags & Flag.PRIORITY) start += 5;
  if (end < start) throw new FrameError(ErrorCode.PROTOCOL_ERROR, "padding exceeds frame payload");
  return frame.payload.subarray(start, end);
}

/**
 * Splits a byte stream into frames in one fixed buffer of exactly one largest frame (header
 * included): the caller reads into {@linkcode space}, records the count with
 * {@linkcode commit}, then takes whole frames from {@linkcode next} until it returns `null`.
 * A length above the maximum is a FRAME_SIZE_ERROR as soon as its header is in (RFC 9113 §4.2),
 * so no peer can make the buffer grow: it never does.
 */
export class FrameReader {
  readonly #buf: Uint8Array;
  readonly #maxFrameSize: number;
  #start = 0;
  #end = 0;

  constructor(maxFrameSize: number) {
    this.#maxFrameSize = maxFrameSize;
    this.#buf = new Uint8Array(FRAME_HEADER_SIZE + maxFrameSize);
  }

  /** Size of the buffer: one frame of the largest accepted size, with its header. */
  get capacity(): number {
    return this.#buf.length;
  }

  /**
   * Where the next read goes: the free tail of the buffer, after moving the bytes of an
   * incomplete frame to the front (invalidating earlier frames' payloads). Never empty once
   * `next` has returned `null`: a full buffer always holds a whole frame.
   */
  space(): Uint8Array {
    if (this.#start > 0) {
      this.#buf.copyWithin(0, this.#start, this.#end);
      this.#end -= this.#start;
      this.#start = 0;
    }
    return this.#buf.subarray(this.#end);
  }

  /** Records that `n` bytes were read into the last {@linkcode space}. */
  commit(n: number): void {
    if (n < 0 || this.#end + n > this.#buf.length) {
      throw new RangeError(`commit of ${n} bytes exceeds the reader's space`);
    }
    this.#end += n;
  }

  /** The next whole frame, or `null`. The payload is valid until the next `space` call. */
  next(): Frame | null {
    const available = this.#end - this.#start;
    if (available < FRAME_HEADER_SIZE) return null;
    const b = this.#buf;
    const s = this.#start;
    const length = ((b[s] ?? 0) << 16) | ((b[s + 1] ?? 0) << 8) | (b[s + 2] ?? 0);
    if (length > this.#maxFrameSize) {
      throw new FrameError(ErrorCode.FRAME_SIZE_ERROR, `frame of ${length} octets too large`);
    }
    if (available < FRAME_HEADER_SIZE + length) return null;
    const frame: Frame = {
      type: b[s + 3] ?? 0,
      flags: b[s + 4] ?? 0,
      streamId: readUint32(b, s + 5) & MAX_WINDOW_SIZE,
      payload: b.subarray(s + FRAME_HEADER_SIZE, s + FRAME_HEADER_SIZE + length),
    };
    this.#start += FRAME_HEADER_SIZE + length;
    return frame;
  }
}
