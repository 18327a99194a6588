/**
 * A Server-Sent Events response (`text/event-stream`) fed by subscriptions, for the admin API's
 * `/api/v1/events`. A client that reads too slowly is cut off instead of making the router
 * buffer: at most {@link MAX_QUEUED_EVENTS} events wait per client, then the stream ends (the
 * client reconnects and reads `/api/v1/decisions` for what it missed).
 */

/**
 * Events one client may have waiting before its stream is closed. An event counts one plus one
 * per {@link QUEUE_UNIT_BYTES} it holds, so large ones (a state event can be ~64 KiB) bound the
 * memory too: at most ~1 MiB waits per stream.
 */
export const MAX_QUEUED_EVENTS = 256;
/** The bytes an event holds per extra unit it counts against {@link MAX_QUEUED_EVENTS}. */
export const QUEUE_UNIT_BYTES = 4096;

/** How often a comment line keeps idle proxies and clients from closing the stream. */
export const KEEP_ALIVE_MS = 15_000;

/** Sends one event: its name and its JSON data. */
export type EmitEvent = (event: string, data: unknown) => void;

/** Options of {@link eventStream}. */
export interface EventStreamOptions {
  /**
   * Ends the stream from the server's side (shutdown). A client that goes away cancels the body,
   * which ends it too.
   */
  readonly signal: AbortSignal;
  /** Subscribes the stream to its sources; returns what unsubscribes them. */
  readonly subscribe: (emit: EmitEvent) => () => void;
  /** Overrides {@link KEEP_ALIVE_MS} (tests). */
  readonly keepAliveMs?: number;
  /** Overrides {@link MAX_QUEUED_EVENTS} (tests). */
  readonly maxQueued?: number;
}

/** A streaming response that emits each subscribed event until the client leaves. */
export function eventStream(options: EventStreamOptions): Response {
  const encoder = new TextEncoder();
  const maxQueued = options.maxQueued ?? MAX_QUEUED_EVENTS;
  let stop = () => {};
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (text: string) => {
        // desiredSize counts queued chunks (weighted by size) against the high-water mark below.
        if ((controller.desiredSize ?? 0) <= 0) return stop();
        controller.enqueue(encoder.encode(text));
      };
      const unsubscribe = options.subscribe((event, data) =>
        send(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)
      );
      const timer = setInterval(
        () => send(": keep-alive\n\n"),
        options.keepAliveMs ?? KEEP_ALIVE_MS,
      );
      let stopped = false;
      stop = () => {
        if (stopped) return;
        stopped = true;
        clearInterval(timer);
        unsubscribe();
        options.signal.removeEventListener("abort", stop);
        try {
          controller.close();
        } catch {
          // Already closed or cancelled.
        }
      };
      options.signal.addEventListener("abort", stop);
      if (options.signal.aborted) return stop();
      // Tells the client the stream is live before the first event.
      controller.enqueue(encoder.encode(": connected\n\n"));
    },
    cancel: () => stop(),
  }, {
    highWaterMark: maxQueued,
    size: (chunk: Uint8Array) => 1 + Math.floor(chunk.byteLength / QUEUE_UNIT_BYTES),
  });
  return new Response(body, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      "x-accel-buffering": "no",
    },
  });
}
