/**
 * One HTTP/2 stream carrying one unary gRPC call: what was sent, what has arrived, and how it
 * ended. The connection feeds it frames; the stream reports exactly one outcome.
 */
import type { HeaderField } from "./hpack.ts";
import { type CallStatus, GrpcStatus, readStatus } from "./grpc_wire.ts";

/** How a stream ended. Only `refused` promises that the server never processed the call. */
export type StreamOutcome =
  | { readonly kind: "response"; readonly status: CallStatus; readonly body: Uint8Array }
  | { readonly kind: "refused"; readonly reason: string }
  | { readonly kind: "lost"; readonly reason: string }
  | { readonly kind: "malformed"; readonly reason: string };

/** Largest response message accepted: gRPC's default maximum receive message size. */
export const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
/** Largest response body accepted: one message of {@linkcode MAX_MESSAGE_BYTES} and its prefix. */
export const MAX_RESPONSE_BYTES = MAX_MESSAGE_BYTES + 5;
/**
 * Largest decoded header list accepted, counted as RFC 9113 §6.5.2 does (name + value + 32 per
 * field); the client advertises it as SETTINGS_MAX_HEADER_LIST_SIZE.
 */
export const MAX_HEADER_LIST_SIZE = 64 * 1024;

/** The per-stream state the connection keeps. */
export class H2Stream {
  /** Assigned when the HEADERS frame is sent; 0 while queued. */
  id = 0;
  /** Send-side flow-control window (RFC 9113 §6.9). */
  sendWindow = 0;
  /** Receive-side window: DATA octets the server may still send (RFC 9113 §6.9). */
  recvWindow = 0;
  /** The encoded request header block (shared between calls: never modified). */
  readonly headerBlock: Uint8Array;
  readonly body: Uint8Array;
  /** How much of `body` has been sent. */
  bodyOffset = 0;

  #httpStatus = 0;
  #gotHeaders = false;
  #chunks: Uint8Array[] = [];
  #received = 0;
  // The message's 5-octet prefix (flag, 32-bit length) as it arrives; -1 until it is complete.
  readonly #prefix = new Uint8Array(5);
  #declared = -1;
  #done = false;
  readonly #onOutcome: (outcome: StreamOutcome) => void;

  constructor(
    headerBlock: Uint8Array,
    body: Uint8Array,
    onOutcome: (outcome: StreamOutcome) => void,
  ) {
    this.headerBlock = headerBlock;
    this.body = body;
    this.#onOutcome = onOutcome;
  }

  /** Body octets received (buffered until the stream ends). */
  get bodyBytes(): number {
    return this.#received;
  }

  /**
   * Body octets the response may still bring: the rest of the declared message, or up to the
   * largest accepted body while its prefix has not arrived. Windows never grant more.
   */
  get wantedBytes(): number {
    const total = this.#declared < 0 ? MAX_RESPONSE_BYTES : 5 + this.#declared;
    return Math.max(0, total - this.#received);
  }

  /** Whether an outcome has been reported. */
  get done(): boolean {
    return this.#done;
  }

  /** Reports the outcome once; later calls are ignored. */
  finish(outcome: StreamOutcome): void {
    if (this.#done) return;
    this.#done = true;
    this.#chunks = [];
    this.#onOutcome(outcome);
  }

  /** A decoded header block: response headers first, then trailers (or trailers-only). */
  onHeaders(fields: readonly HeaderField[], endStream: boolean): void {
    const listSize = headerListSize(fields);
    if (listSize > MAX_HEADER_LIST_SIZE) {
      this.finish({
        kind: "malformed",
        reason: `response header list of ${listSize} octets exceeds ${MAX_HEADER_LIST_SIZE}`,
      });
      return;
    }
    if (!this.#gotHeaders) {
      this.#gotHeaders = true;
      const status = fields.find((f) => f.name === ":status")?.value ?? "";
      this.#httpStatus = /^\d{3}$/.test(status) ? Number(status) : 0;
      if (this.#httpStatus === 0) {
        this.finish({ kind: "malformed", reason: "response headers without :status" });
      } else if (endStream) {
        this.finish({
          kind: "response",
          status: readStatus(fields, this.#httpStatus),
          body: EMPTY,
        });
      }
      return;
    }
    if (!endStream) {
      this.finish({ kind: "malformed", reason: "trailers without END_STREAM" });
      return;
    }
    this.finish({
      kind: "response",
      status: readStatus(fields, this.#httpStatus),
      body: this.#body(),
    });
  }

  /** A DATA payload (padding removed). */
  onData(data: Uint8Array, endStream: boolean): void {
    if (!this.#gotHeaders) {
      this.finish({ kind: "malformed", reason: "DATA before response headers" });
      return;
    }
    this.#readPrefix(data);
    this.#received += data.length;
    const problem = this.#sizeProblem();
    if (problem !== null) {
      this.finish({ kind: "malformed", reason: problem });
      return;
    }
    if (data.length > 0) this.#chunks.push(data.slice());
    if (endStream) {
      // A body that ends without trailers carries no grpc-status: the HTTP status decides.
      const status = this.#httpStatus === 200
        ? { code: GrpcStatus.INTERNAL, message: "response ended without trailers" }
        : readStatus([], this.#httpStatus);
      this.finish({ kind: "response", status, body: this.#body() });
    }
  }

  // Fills the length prefix from the first five body octets, however the DATA frames split them.
  #readPrefix(data: Uint8Array): void {
    if (this.#declared >= 0 || this.#received >= 5) return;
    const take = Math.min(5 - this.#received, data.length);
    this.#prefix.set(data.subarray(0, take), this.#received);
    if (this.#received + take === 5) {
      this.#declared = new DataView(this.#prefix.buffer).getUint32(1);
    }
  }

  // Rejects a body as soon as it is known to be too large, before buffering more of it: a
  // declared length over the limit, or octets past the one message a unary response carries.
  #sizeProblem(): string | null {
    if (this.#declared > MAX_MESSAGE_BYTES) {
      return `response message of ${this.#declared} bytes exceeds the ${MAX_MESSAGE_BYTES}-byte limit`;
    }
    if (this.#declared >= 0 && this.#received > 5 + this.#declared) {
      return "response carries data after its message";
    }
    return null; // the two checks bound the body once the prefix is in; before, it is < 5
  }

  #body(): Uint8Array {
    const chunks = this.#chunks;
    if (chunks.length === 1) return chunks[0]!;
    const out = new Uint8Array(this.#received);
    let offset = 0;
    for (const c of chunks) {
      out.set(c, offset);
      offset += c.length;
    }
    return out;
  }
}

const EMPTY = new Uint8Array(0);

// RFC 9113 §6.5.2: the uncompressed size of each field plus an overhead of 32 octets.
function headerListSize(fields: readonly HeaderField[]): number {
  let size = 0;
  for (const f of fields) size += f.name.length + f.value.length + 32;
  return size;
}
