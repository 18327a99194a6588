/**
 * gRPC over HTTP/2 (the "PROTOCOL-HTTP2" document of grpc/grpc): request headers, the 5-byte
 * length-prefixed message, `grpc-timeout`, and reading the call's status.
 */
import { encodeFields, type HeaderField } from "./hpack.ts";

/** gRPC status codes used by this client (the full list is 0–16). */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  DEADLINE_EXCEEDED: 4,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
} as const;

const STATUS_NAMES: readonly string[] = [
  "OK",
  "CANCELLED",
  "UNKNOWN",
  "INVALID_ARGUMENT",
  "DEADLINE_EXCEEDED",
  "NOT_FOUND",
  "ALREADY_EXISTS",
  "PERMISSION_DENIED",
  "RESOURCE_EXHAUSTED",
  "FAILED_PRECONDITION",
  "ABORTED",
  "OUT_OF_RANGE",
  "UNIMPLEMENTED",
  "INTERNAL",
  "UNAVAILABLE",
  "DATA_LOSS",
  "UNAUTHENTICATED",
];

/** `14 UNAVAILABLE`-style text for logs and error messages. */
export function statusText(code: number): string {
  return `${code} ${STATUS_NAMES[code] ?? "UNKNOWN_CODE"}`;
}

/** The outcome a server reported: status code and (decoded) message. */
export interface CallStatus {
  readonly code: number;
  readonly message: string;
}

/**
 * The request header block of one method, encoded once (`hpack.ts` uses no dynamic table, so
 * the bytes do not depend on the connection): only `grpc-timeout` changes per call, and it goes
 * last so a call's block is the fixed part plus that one field.
 */
export class RequestHeaders {
  readonly #fixed: Uint8Array;
  // The last timeout's block: calls of one plugin nearly always carry the same value.
  #lastTimeout = "";
  #lastBlock: Uint8Array = new Uint8Array(0);

  constructor(authority: string, path: string, contentType: string) {
    this.#fixed = encodeFields([
      { name: ":method", value: "POST" },
      { name: ":scheme", value: "http" },
      { name: ":path", value: path },
      { name: ":authority", value: authority },
      { name: "content-type", value: contentType },
      { name: "te", value: "trailers" },
      { name: "user-agent", value: "gatehouse-grpc/0.1" },
    ]);
  }

  /** The header block of a call with `timeoutMs` left; callers must not modify it. */
  block(timeoutMs: number): Uint8Array {
    const timeout = encodeTimeout(timeoutMs);
    if (timeout !== this.#lastTimeout) {
      const field = encodeFields([{ name: "grpc-timeout", value: timeout }]);
      const block = new Uint8Array(this.#fixed.length + field.length);
      block.set(this.#fixed, 0);
      block.set(field, this.#fixed.length);
      this.#lastTimeout = timeout;
      this.#lastBlock = block;
    }
    return this.#lastBlock;
  }
}

/**
 * `grpc-timeout` value: at most 8 digits and a unit. Milliseconds, rounded up so the server never
 * gives up before the client does; whole seconds past 8 digits.
 */
export function encodeTimeout(timeoutMs: number): string {
  const ms = Math.max(1, Math.ceil(timeoutMs));
  if (ms < 100_000_000) return `${ms}m`;
  return `${Math.min(99_999_999, Math.ceil(ms / 1000))}S`;
}

/** The length-prefixed message: flag 0 (uncompressed), 32-bit big-endian length, bytes. */
export function frameMessage(message: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + message.length);
  new DataView(out.buffer).setUint32(1, message.length);
  out.set(message, 5);
  return out;
}

/** Why a response body is not exactly one uncompressed message. */
export type MessageProblem = "compressed" | "truncated" | "trailing" | "missing";

/** Extracts the single message of a unary response body, or says what is wrong with it. */
export function unframeMessage(body: Uint8Array): Uint8Array | MessageProblem {
  if (body.length === 0) return "missing";
  if (body.length < 5) return "truncated";
  if (body[0] !== 0) return "compressed";
  const length = new DataView(body.buffer, body.byteOffset, 5).getUint32(1);
  if (body.length < 5 + length) return "truncated";
  if (body.length > 5 + length) return "trailing";
  return body.subarray(5);
}

/**
 * The call's status from a trailer block (or the headers of a trailers-only reply). Without
 * `grpc-status` the HTTP status decides, as the gRPC spec maps it.
 */
export function readStatus(fields: readonly HeaderField[], httpStatus: number): CallStatus {
  let code: number | null = null;
  let message = "";
  for (const f of fields) {
    if (f.name === "grpc-status") {
      code = /^\d+$/.test(f.value) ? Number(f.value) : GrpcStatus.UNKNOWN;
    } else if (f.name === "grpc-message") message = decodeGrpcMessage(f.value);
  }
  if (code !== null) return { code, message };
  if (httpStatus !== 200) {
    return { code: httpStatusToGrpc(httpStatus), message: `HTTP ${httpStatus}` };
  }
  return { code: GrpcStatus.INTERNAL, message: "response ended without grpc-status" };
}

/** HTTP status → gRPC status, for replies that carry no `grpc-status` (a proxy's error page). */
export function httpStatusToGrpc(httpStatus: number): number {
  switch (httpStatus) {
    case 400:
      return GrpcStatus.INTERNAL;
    case 401:
      return 16; // UNAUTHENTICATED
    case 403:
      return 7; // PERMISSION_DENIED
    case 404:
      return GrpcStatus.UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
      return GrpcStatus.UNAVAILABLE;
    default:
      return GrpcStatus.UNKNOWN;
  }
}

/**
 * `grpc-message` is percent-encoded UTF-8. A server may send a malformed escape; that must not
 * throw (`decodeURIComponent` does), so the raw text is kept then.
 */
export function decodeGrpcMessage(value: string): string {
  if (!value.includes("%")) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
