/**
 * A hostile QUIC client that tries to make the router hold memory before any Connect: on one
 * connection it opens every stream the router's transport parameters allow and fills each up to
 * its flow-control window, and sends QUIC datagrams if the router advertises them. It never
 * sends a whole Connect, so the router has nothing to answer until `limits.connect_timeout`.
 *
 * Used by `tests/server/stream_limits_test.ts` and the stream scenario of `bench/flood.ts`.
 * Independent of `src/`: the frame header is written by hand.
 */

/** What one filling client managed to open and send. */
export interface FillReport {
  /** Bidirectional streams opened (the first carries the partial Connect). */
  readonly bidiStreams: number;
  /** Unidirectional streams opened. */
  readonly uniStreams: number;
  /** Stream bytes the router's flow control accepted, all streams together. */
  readonly streamBytes: number;
  /** Datagram bytes sent (0 when the router advertises no datagram support). */
  readonly datagramBytes: number;
}

/** How hard one client pushes. */
export interface FillOptions {
  /** Stop opening streams of one kind after this many (QUIC's default limit is 100). */
  readonly maxStreams?: number;
  /** Bytes written per stream at most (default 2 MiB, above quinn's 1.25 MB stream window). */
  readonly perStreamBytes?: number;
  /** A write that does not finish within this is taken as a full window (default 300 ms). */
  readonly stallMs?: number;
  /** Datagram bytes to send at most (default 2 MiB). */
  readonly datagramBytes?: number;
}

const CHUNK = 64 * 1024;

/**
 * Writers of connections still open. Dropping a send stream's last reference lets Deno close
 * its resource, and quinn finishes (FIN) a dropped send stream, which would end the attack.
 */
const HELD = new Map<Deno.QuicConn, WritableStreamDefaultWriter<Uint8Array>[]>();
/** The router's cap on a Connect payload (`MAX_CONNECT_PAYLOAD`, 16 KiB). */
const CONNECT_CAP = 16 * 1024;

/**
 * The start of a frame that announces a Connect of `CONNECT_CAP` bytes and then stops one byte
 * short: the router must keep the partial frame while it waits for the rest.
 */
export function partialConnect(): Uint8Array {
  const bytes = new Uint8Array(8 + CONNECT_CAP - 1);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, CONNECT_CAP, true);
  view.setUint32(4, 0, true);
  return bytes;
}

/**
 * Opens and fills every stream `conn` may open, and sends datagrams; resolves once every write
 * has finished or stalled. Never throws: whatever the router refuses just ends that part.
 */
export async function fillEveryStream(
  conn: Deno.QuicConn,
  options: FillOptions = {},
): Promise<FillReport> {
  const max = options.maxStreams ?? 100;
  const perStream = options.perStreamBytes ?? 2 * 1024 * 1024;
  const stallMs = options.stallMs ?? 300;
  const writes: Promise<number>[] = [];
  const held: WritableStreamDefaultWriter<Uint8Array>[] = [];
  HELD.set(conn, held);
  conn.closed.catch(() => {}).finally(() => HELD.delete(conn));
  const progress: Progress = { last: performance.now() };
  let bidiStreams = 0;
  let uniStreams = 0;
  for (; bidiStreams < max + 1; bidiStreams++) {
    const stream = await conn.createBidirectionalStream().catch(() => null);
    if (stream === null) break;
    const first = bidiStreams === 0;
    const only = first ? partialConnect() : null;
    writes.push(fill(hold(held, stream.writable), only, perStream, stallMs, progress));
  }
  for (; uniStreams < max; uniStreams++) {
    const stream = await conn.createUnidirectionalStream().catch(() => null);
    if (stream === null) break;
    writes.push(fill(hold(held, stream), null, perStream, stallMs, progress));
  }
  const datagramBytes = await sendDatagrams(conn, options.datagramBytes ?? 2 * 1024 * 1024);
  const streamBytes = (await Promise.all(writes)).reduce((a, b) => a + b, 0);
  return { bidiStreams, uniStreams, streamBytes, datagramBytes };
}

/** When any stream of one client last got a write through (`performance.now()`). */
interface Progress {
  last: number;
}

/**
 * Writes `only` if given (and nothing more), else chunks up to `limit` bytes; returns the bytes
 * written. The streams of one connection share the sender's window, so a slow write only means
 * "full" once no stream of the connection has moved for `stallMs`: then the write is abandoned
 * (the writer keeps its lock, so the stream stays open with the bytes the router holds).
 */
function hold(
  held: WritableStreamDefaultWriter<Uint8Array>[],
  writable: WritableStream<Uint8Array>,
): WritableStreamDefaultWriter<Uint8Array> {
  const writer = writable.getWriter();
  held.push(writer);
  return writer;
}

async function fill(
  writer: WritableStreamDefaultWriter<Uint8Array>,
  only: Uint8Array | null,
  limit: number,
  stallMs: number,
  progress: Progress,
): Promise<number> {
  let written = 0;
  while (only ? written === 0 : written < limit) {
    const chunk = only ?? new Uint8Array(Math.min(CHUNK, limit - written)).fill(0x5a);
    const write = writer.write(chunk).then(() => "done" as const, () => "failed" as const);
    let outcome: "done" | "failed" | "late";
    while ((outcome = await within(write, stallMs)) === "late") {
      if (performance.now() - progress.last >= stallMs) return written;
    }
    if (outcome === "failed") return written;
    progress.last = performance.now();
    written += chunk.length;
  }
  return written;
}

async function sendDatagrams(conn: Deno.QuicConn, limit: number): Promise<number> {
  const size = conn.maxDatagramSize;
  if (size <= 0) return 0;
  const datagram = new Uint8Array(size).fill(0xa5);
  let sent = 0;
  try {
    while (sent < limit) {
      await conn.sendDatagram(datagram);
      sent += size;
    }
  } catch {
    // The connection ended or datagrams were refused.
  }
  return sent;
}

/** What `task` settled to within `ms`, or `"late"` (no timer is left behind either way). */
async function within<T>(task: Promise<T>, ms: number): Promise<T | "late"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((resolve) => timer = setTimeout(() => resolve("late"), ms));
  try {
    return await Promise.race([task, late]);
  } finally {
    clearTimeout(timer);
  }
}
