import { closeQuietly } from "./timing.ts";
import { FrameDecoder, MAX_CONNECT_PAYLOAD, PacketId, ProtocolError } from "../protocol/mod.ts";

/** How many non-Connect frames a client may send before its Connect (Pings, say). */
const MAX_FRAMES_BEFORE_CONNECT = 8;

/** What reading the first Connect of a connection gave. */
export type FirstConnect =
  | {
    readonly kind: "connect";
    readonly payload: Uint8Array;
    /** Bytes read from the client's stream up to and including the Connect. */
    readonly received: number;
    /** Where the reply goes: the writable side of the stream the Connect came on. */
    readonly writable: WritableStream<Uint8Array>;
  }
  | { readonly kind: "timeout" }
  | { readonly kind: "closed" }
  | { readonly kind: "protocol_error"; readonly error: ProtocolError };

/**
 * Waits for the client's first bidirectional stream and reads frames from it until the Connect
 * packet, buffering at most one Connect's worth of bytes. After `timeoutMs`
 * (`limits.connect_timeout`) the connection is closed, which ends any pending read.
 */
export async function readFirstConnect(
  conn: Deno.QuicConn,
  timeoutMs: number,
): Promise<FirstConnect> {
  let timedOut = false;
  // One plain timer per connection: closing the connection is what actually stops the reads,
  // and it is cheaper than racing every read against an AbortSignal.
  const timer = setTimeout(() => {
    timedOut = true;
    closeQuietly(conn);
  }, timeoutMs);
  try {
    const result = await readConnect(conn);
    return timedOut && result.kind === "closed" ? { kind: "timeout" } : result;
  } catch {
    return timedOut ? { kind: "timeout" } : { kind: "closed" };
  } finally {
    clearTimeout(timer);
  }
}

async function readConnect(conn: Deno.QuicConn): Promise<FirstConnect> {
  const streams = conn.incomingBidirectionalStreams.getReader();
  const next = await streams.read();
  streams.releaseLock();
  if (next.done) return { kind: "closed" };
  return await readConnectFrame(next.value);
}

async function readConnectFrame(stream: Deno.QuicBidirectionalStream): Promise<FirstConnect> {
  const decoder = new FrameDecoder(MAX_CONNECT_PAYLOAD);
  const reader = stream.readable.getReader();
  let skipped = 0;
  let found = false;
  let received = 0;
  try {
    while (true) {
      const chunk = await reader.read();
      if (chunk.done) return { kind: "closed" };
      received += chunk.value.length;
      decoder.push(chunk.value);
      for (let frame = decoder.next(); frame !== null; frame = decoder.next()) {
        if (frame.id === PacketId.Connect) {
          found = true;
          return { kind: "connect", payload: frame.payload, received, writable: stream.writable };
        }
        if (++skipped > MAX_FRAMES_BEFORE_CONNECT) {
          throw new ProtocolError(
            "bad_packet",
            `expected Connect (packet 0), got ${skipped} other packets (last id ${frame.id})`,
          );
        }
      }
    }
  } catch (err) {
    if (err instanceof ProtocolError) return { kind: "protocol_error", error: err };
    throw err;
  } finally {
    // After the Connect the client may keep sending; leave its half alone (a STOP_SENDING
    // could make it drop the reply). Anything else: stop the stream.
    if (found) reader.releaseLock();
    else reader.cancel().catch(() => {});
  }
}
