// The memory ABI of the plugin protocol: alloc/free exports and the packed (ptr, len) result.

import { parseJson } from "./json";
import { ConnectRequest, ConnectResponse } from "./types";

import { log as hostLog } from "./gatehouse";

/** Log levels of `log`. */
export const enum Level {
  Debug = 0,
  Info = 1,
  Warn = 2,
  Error = 3,
}

/** Writes a log line to the router's log. */
export function log(level: Level, message: string): void {
  const bytes = String.UTF8.encode(message);
  hostLog(level, changetype<usize>(bytes), bytes.byteLength);
}

/** Export as `alloc`: a buffer the host writes the request into. */
export function alloc(len: u32): u32 {
  return <u32> heap.alloc(max<usize>(len, 1));
}

/** Export as `free`: releases a buffer from `alloc` or a response. */
export function free(ptr: u32, _len: u32): void {
  heap.free(<usize> ptr);
}

/** A plugin: a function from request to response. */
export type Handler = (request: ConnectRequest) => ConnectResponse;

/**
 * Runs `handler` on the request at [ptr, ptr+len) and returns the response packed as
 * `(ptr << 32) | len`, the value `on_connect` must return. Invalid JSON is answered with an
 * empty response (the router keeps its decision) and a log line.
 */
export function serve(handler: Handler, ptr: u32, len: u32): u64 {
  const json = parseJson(<usize> ptr, <usize> len);
  let response: ConnectResponse;
  if (json == null) {
    log(Level.Error, "request is not valid JSON");
    response = new ConnectResponse();
  } else {
    response = handler(ConnectRequest.fromJson(json));
  }
  const bytes = String.UTF8.encode(response.toJson());
  const out = heap.alloc(max<usize>(bytes.byteLength, 1));
  memory.copy(out, changetype<usize>(bytes), bytes.byteLength);
  const packed = (<u64> out << 32) | <u64> bytes.byteLength;
  // Built with `--runtime minimal`: the kit collects garbage once per call, here, where nothing
  // of the call is still needed (the response was copied to unmanaged memory). A full collection
  // of the small heap is cheaper than the incremental collector's steps during the call: the
  // example's call took 26 µs with `incremental`, 10 µs like this.
  __collect();
  return packed;
}

/** Used as AssemblyScript's `abort` (`--use abort=...`): logs, then traps. */
export function pluginAbort(
  message: string | null,
  file: string | null,
  line: u32,
  column: u32,
): void {
  log(
    Level.Error,
    "abort: " + (message != null ? message : "") + " at " + (file != null ? file : "") + ":" +
      line.toString() + ":" + column.toString(),
  );
  unreachable();
}
