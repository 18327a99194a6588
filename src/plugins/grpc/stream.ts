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

/** Largest response body accepted (gRPC's default maximum receive message size, plus prefix). */
export const MAX_RESPONSE_BYTES = 4 * 1024 * 1024 + 5;

/** The per-stream state the connection keeps. */
export class H2Stream {
  /** Assigned when the HEADERS frame is sent; 0 while queued. */
  id = 0;
  /** Send-side flow-control window (RFC 9113 §6.9). */
  sendWindow = 0;
  /** Octets received but not yet credited back with WINDOW_UPDATE. */
  unackedRecv = 0;
  /** The encoded request header block (shared between calls: never modified). */
  readonly headerBlock: Uint8Array;
  readonly body: Uint8Array;
  /** How much of `body` has been sent. */
  bodyOffset = 0;

  #httpStatus = 0;
  #gotHeaders = false;
  #chunks: Uint8Array[] = [];
  #received = 0;
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
    this.#received += data.length;
    if (this.#received > MAX_RESPONSE_BYTES) {
      this.finish({
        kind: "malformed",
        reason: `response larger than ${MAX_RESPONSE_BYTES} bytes`,
      });
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
