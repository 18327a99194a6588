/**
 * The admin JSON API under `/api/v1/`: bearer-token access and dispatch to named views. Kept
 * apart from `admin_server.ts` (which serves the open `/metrics`, `/healthz`, `/readyz`) because
 * everything here is behind the token. The views themselves come from the caller (`cli/admin.ts`
 * wires the server's), so this folder stays free of router types.
 *
 * Access: with no token configured every `/api/v1/` request is 403 (the API is off); otherwise
 * `Authorization: Bearer <token>` must match, else 401 with `WWW-Authenticate: Bearer`. The token
 * and the header are never logged or echoed.
 */

/** Where the API lives; `/api/v1/<name>` serves the view called `<name>`. */
export const API_PREFIX = "/api/v1/";

/** One endpoint's JSON body; `null` while the router has not started (503). */
export type ApiView = () => unknown | Promise<unknown>;

/** What `/api/v1/*` serves. */
export interface AdminApi {
  /** The token requests must present, read per request (a reload may change it); `null`: 403. */
  token(): Uint8Array | null;
  /** View name (`status`, `routes`, …) → its body. */
  readonly views: ReadonlyMap<string, ApiView>;
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
  const view = api.views.get(path.slice(API_PREFIX.length));
  if (view === undefined) return json(404, { error: "not found" });
  if (request.method !== "GET") {
    return json(405, { error: "method not allowed" }, { allow: "GET" });
  }
  const body = await view();
  if (body === null) return json(503, { error: "the router is starting" });
  return json(200, body);
}

/**
 * Whether `header` is `Bearer <token>` (scheme case-insensitive). The comparison takes the same
 * time whatever the presented text holds: it always walks the whole token and folds every
 * byte's difference (and the length difference) into one value, with no early exit.
 */
export function bearerMatches(header: string | null, token: Uint8Array): boolean {
  const match = header === null ? null : /^bearer +(.*)$/i.exec(header.trim());
  const given = new TextEncoder().encode(match?.[1] ?? "");
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
