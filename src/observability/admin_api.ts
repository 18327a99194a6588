/**
 * The admin JSON API under `/api/v1/`: bearer-token access and dispatch to named endpoints. Kept
 * apart from `admin_server.ts` (which serves the open `/metrics`, `/healthz`, `/readyz`) because
 * everything here is behind the token. The endpoints themselves come from the caller
 * (`cli/admin.ts` wires the router's), so this folder stays free of router types.
 *
 * Access: with no token configured every `/api/v1/` request is 403 (the API is off); otherwise
 * `Authorization: Bearer <token>` must match, else 401 with `WWW-Authenticate: Bearer`. The token
 * and the header are never logged or echoed.
 */

/** Where the API lives; `/api/v1/<name>` serves the endpoint called `<name>`. */
export const API_PREFIX = "/api/v1/";

/** Request bodies larger than this are refused (413) before they are parsed. */
export const MAX_BODY_BYTES = 64 * 1024;

/** A request the API refuses; `status` and a message naming what was wrong (and `field`). */
export class ApiError extends Error {
  /** Lets callers tell it apart without `instanceof`. */
  readonly code = "admin_api";

  /** `field` names the body field at fault (`bypass[2]`), when one is. */
  constructor(readonly status: number, message: string, readonly field: string | null = null) {
    super(message);
    this.name = "ApiError";
  }
}

/** What a handler gets: the request, its URL, and its body parsed as JSON. */
export interface ApiRequest {
  /** The HTTP request (its `signal` ends when the client goes away). */
  readonly request: Request;
  /** The parsed URL (query parameters). */
  readonly url: URL;
  /** The body as JSON; throws {@link ApiError} 400 (not JSON) or 413 (too large). */
  json(): Promise<unknown>;
}

/**
 * One endpoint's answer: a JSON-ready value (200), a `Response` as it is (event streams), or
 * `null` while the router has not started (503). Throwing {@link ApiError} answers its status.
 */
export type ApiHandler = (request: ApiRequest) => unknown | Promise<unknown>;

/** An endpoint's handlers per HTTP method. */
export type ApiEndpoint = Readonly<Partial<Record<"GET" | "POST" | "PUT" | "DELETE", ApiHandler>>>;

/** What `/api/v1/*` serves. */
export interface AdminApi {
  /** The token requests must present, read per request (a reload may change it); `null`: 403. */
  token(): Uint8Array | null;
  /** Endpoint name (`status`, `backends/drain`, …) → its handlers. */
  readonly endpoints: ReadonlyMap<string, ApiEndpoint>;
}

const JSON_TYPE = "application/json";

/** Answers a request whose path starts with {@link API_PREFIX}. */
export async function handleApi(request: Request, path: string, api: AdminApi): Promise<Response> {
  const token = api.token();
  if (token === null) {
    return json(403, { error: "the admin API is off: admin.token_file is not set" });
  }
  if (!bearerMatches(request.headers.get("authorization"), token)) {
    return json(401, { error: "missing or wrong bearer token" }, {
      "www-authenticate": 'Bearer realm="gatehouse"',
    });
  }
  const endpoint = api.endpoints.get(path.slice(API_PREFIX.length));
  if (endpoint === undefined) return json(404, { error: "not found" });
  // Own keys only: an HTTP method is any token, and `constructor` or `toString` would otherwise
  // find Object.prototype's functions and call them as handlers.
  const method = request.method as keyof ApiEndpoint;
  const handler = Object.hasOwn(endpoint, method) ? endpoint[method] : undefined;
  if (handler === undefined) {
    const allow = Object.keys(endpoint).join(", ");
    return json(405, { error: `method not allowed; use ${allow}` }, { allow });
  }
  try {
    const body = await handler({
      request,
      url: new URL(request.url),
      json: () => readJson(request),
    });
    if (body instanceof Response) return body;
    if (body === null) return json(503, { error: "the router is starting" });
    return json(200, body);
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    return json(
      err.status,
      err.field === null ? { error: err.message } : {
        error: err.message,
        field: err.field,
      },
    );
  }
}

async function readJson(request: Request): Promise<unknown> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  const bytes = new Uint8Array(await new Response(limited(request.body)).arrayBuffer());
  if (bytes.length === 0) throw new ApiError(400, "the request needs a JSON body");
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (err) {
    throw new ApiError(400, `the body is not JSON: ${err instanceof Error ? err.message : err}`);
  }
}

function tooLarge(): ApiError {
  return new ApiError(413, `the body is over ${MAX_BODY_BYTES} bytes`);
}

// A body stream cut off (with an error) once it passes MAX_BODY_BYTES, so a client that sends
// no content-length cannot make the router buffer more.
function limited(body: ReadableStream<Uint8Array> | null): ReadableStream<Uint8Array> | null {
  if (body === null) return null;
  let seen = 0;
  return body.pipeThrough(
    new TransformStream({
      transform(chunk, controller) {
        seen += chunk.length;
        if (seen > MAX_BODY_BYTES) throw tooLarge();
        controller.enqueue(chunk);
      },
    }),
  );
}

/**
 * Whether `header` is `Bearer <token>` (scheme case-insensitive). The comparison takes the same
 * time whatever the presented text holds: it always walks the whole token and folds every
 * byte's difference (and the length difference) into one value, with no early exit.
 */
export function bearerMatches(header: string | null, token: Uint8Array): boolean {
  const match = header === null ? null : /^bearer +(.*)$/i.exec(header.trim());
  // A header value arrives one character per byte (`curl` sends a UTF-8 token as it is): its
  // char codes are the bytes the client sent, to compare with the token file's UTF-8 bytes.
  const given = Uint8Array.from(match?.[1] ?? "", (c) => c.charCodeAt(0) & 0xff);
  let diff = (given.length ^ token.length) | (match ? 0 : 1) | (token.length === 0 ? 1 : 0);
  for (let i = 0; i < token.length; i++) diff |= token[i]! ^ (given[i] ?? 0);
  return diff === 0;
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body) + "\n", {
    status,
    headers: { "content-type": JSON_TYPE, "cache-control": "no-store", ...headers },
  });
}
