/**
 * The admin HTTP endpoint: `/metrics` (Prometheus text), `/healthz` (the process answers) and
 * `/readyz` (every readiness check passes), open to anyone who can reach it, the JSON API under
 * `/api/v1/` behind a bearer token (`admin_api.ts`), and with the API the operator dashboard at
 * `/` (`dashboard/`: a page and its assets holding no data, so open too). GET only; anything else
 * is 404 or 405. A failing request is logged (never with its headers) and answered 500; it never
 * reaches the router.
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
}

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
  /** Stops accepting and waits for requests in flight. */
  close(): Promise<void>;
}

const TEXT = "text/plain; charset=utf-8";

/**
 * Binds and starts serving. Throws {@link AdminListenError} when the address cannot be bound.
 * Once bound, the server keeps accepting even after the process drops its `net` permission.
 */
export function startAdminServer(options: AdminServerOptions): AdminServer {
  const { hostname, port, logger } = options;
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname,
      port,
      onListen: () => {},
      onError: (err) => {
        logger.error("admin request failed", { error: String(err) });
        return new Response("internal error\n", { status: 500, headers: { "content-type": TEXT } });
      },
    }, (request) => handle(request, options));
  } catch (err) {
    const address = hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
    throw new AdminListenError(address, err);
  }
  return {
    addr: server.addr,
    close: () => server.shutdown(),
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
