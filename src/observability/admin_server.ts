/**
 * The admin HTTP endpoint: `/metrics` (Prometheus text), `/healthz` (the process answers) and
 * `/readyz` (every readiness check passes), open to anyone who can reach it, the JSON API under
 * `/api/v1/` behind a bearer token (`admin_api.ts`), and with the API the operator dashboard at
 * `/` (`dashboard/`: a page and its assets holding no data, so open too). GET only; anything else
 * is 404 or 405. A failing request is logged (never with its headers) and answered 500; it never
 * reaches the router. Closing waits a bounded time for answers in flight, then cuts the rest.
 */
import { type AdminApi, API_PREFIX, handleApi } from "./admin_api.ts";
import { isDashboardPath, serveDashboard } from "./dashboard/dashboard.ts";
import type { Logger } from "./logger.ts";
import type { Metrics } from "./metrics.ts";
import type { Readiness } from "./readiness.ts";

/** What the admin endpoint serves and where. */
export interface AdminServerOptions {
  /** Host to bind (TCP). */
  readonly hostname: string;
  /** Port to bind; 0 picks a free port. */
  readonly port: number;
  /** Rendered on `/metrics`. */
  readonly metrics: Metrics;
  /** Evaluated on `/readyz`. */
  readonly readiness: Readiness;
  /** Gets a line per failed request. */
  readonly logger: Logger;
  /** Serves `/api/v1/*`; without it those paths are 404. */
  readonly api?: AdminApi;
  /**
   * Serve the operator dashboard at `/` and `/assets/*` (it reads everything through `api`).
   * Default: whenever `api` is given; without an API there is nothing for it to show.
   */
  readonly dashboard?: boolean;
  /** Overrides {@link CLOSE_GRACE_MS} (tests). */
  readonly closeGraceMs?: number;
}

/**
 * How long {@link AdminServer.close} waits for the answers in flight before it closes the
 * connections left, so a client that never finishes its request cannot hold a shutdown.
 */
export const CLOSE_GRACE_MS = 2_000;

/** The admin address could not be bound; names it. */
export class AdminListenError extends Error {
  /** Lets callers tell a bind failure apart without `instanceof`. */
  readonly code = "admin_listen";

  /** The message names `address` (`host:port`) and the cause's message. */
  constructor(readonly address: string, cause: unknown) {
    super(
      `cannot listen on admin http ${address}: ${cause instanceof Error ? cause.message : cause}`,
      { cause },
    );
    this.name = "AdminListenError";
  }
}

/** A running admin endpoint. */
export interface AdminServer {
  /** The bound TCP address (the real port when port 0 was asked for). */
  readonly addr: Deno.NetAddr;
  /**
   * Waits (at most {@link CLOSE_GRACE_MS}) for the answers in flight to be sent, then stops
   * accepting and closes every connection.
   */
  close(): Promise<void>;
}

const TEXT = "text/plain; charset=utf-8";

/**
 * Binds and starts serving. Throws {@link AdminListenError} when the address cannot be bound.
 * Once bound, the server keeps accepting even after the process drops its `net` permission.
 */
export function startAdminServer(options: AdminServerOptions): AdminServer {
  const { hostname, port, logger } = options;
  // Closes the listener and every connection at once. Deno's graceful `shutdown()` is not used:
  // it waits for every connection — forever for one whose client announced a body and never
  // sent it, even when the answer did not need it — and cannot be cut short once begun.
  const abort = new AbortController();
  // Until each answer has been sent (or failed): what close waits for before the abort.
  const inFlight = new Set<Promise<void>>();
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname,
      port,
      signal: abort.signal,
      onListen: () => {},
      onError: (err) => {
        logger.error("admin request failed", { error: String(err) });
        return new Response("internal error\n", { status: 500, headers: { "content-type": TEXT } });
      },
    }, (request, info) => {
      const sent: Promise<void> = info.completed.catch(() => {}).finally(() =>
        inFlight.delete(sent)
      );
      inFlight.add(sent);
      return handle(request, options);
    });
  } catch (err) {
    const address = hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
    throw new AdminListenError(address, err);
  }
  return {
    addr: server.addr,
    close: async () => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const graceMs = options.closeGraceMs ?? CLOSE_GRACE_MS;
      const grace = new Promise((r) => timer = setTimeout(r, graceMs));
      await Promise.race([Promise.all(inFlight), grace]);
      clearTimeout(timer);
      // Deno 2.9 settles `completed` a turn before the last bytes are written: cut at once, the
      // answer would be lost.
      await new Promise((r) => setTimeout(r, 0));
      abort.abort();
      await server.finished;
    },
  };
}

async function handle(request: Request, options: AdminServerOptions): Promise<Response> {
  const path = new URL(request.url).pathname;
  if (options.api && path.startsWith(API_PREFIX)) {
    return await handleApi(request, path, options.api);
  }
  if ((options.dashboard ?? options.api !== undefined) && isDashboardPath(path)) {
    return serveDashboard(request.method, path);
  }
  const route = ROUTES.get(path);
  if (!route) return text(404, "not found\n");
  if (request.method !== "GET") {
    return new Response("method not allowed\n", {
      status: 405,
      headers: { "content-type": TEXT, allow: "GET" },
    });
  }
  return await route(options);
}

type Route = (options: AdminServerOptions) => Response | Promise<Response>;

const ROUTES: ReadonlyMap<string, Route> = new Map<string, Route>([
  ["/metrics", async ({ metrics }) =>
    new Response(await metrics.render(), {
      headers: { "content-type": metrics.contentType },
    })],
  ["/healthz", () => text(200, "ok\n")],
  ["/readyz", ({ readiness }) => {
    const { ready, checks } = readiness.evaluate();
    const lines = checks.map((c) =>
      `${c.ok ? "ok" : "failed"} ${c.name}${c.detail === null ? "" : `: ${c.detail}`}`
    );
    return text(ready ? 200 : 503, [ready ? "ready" : "not ready", ...lines].join("\n") + "\n");
  }],
]);

function text(status: number, body: string): Response {
  return new Response(body, { status, headers: { "content-type": TEXT } });
}
