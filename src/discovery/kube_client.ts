import type { KubeConnection, KubeFs } from "./kubeconfig.ts";

/** What failed: a non-2xx answer, the connection, the body, or reading the token file. */
export type KubeApiErrorCode = "status" | "network" | "parse" | "token";

/** A Kubernetes API request failed; the message names the method and path. */
export class KubeApiError extends Error {
  /** Fixed, so logs and stack traces name the class. */
  override readonly name = "KubeApiError";
  /** What failed. */
  readonly code: KubeApiErrorCode;
  /** The request path (no query). */
  readonly path: string;
  /** HTTP status (or the `code` of a watch ERROR event); `null` when none was received. */
  readonly status: number | null;
  /** Fields of the error and a message naming `path`. */
  constructor(code: KubeApiErrorCode, path: string, status: number | null, message: string) {
    super(message);
    this.code = code;
    this.path = path;
    this.status = status;
  }
}

/** Request options with Deno's `client` (the TLS client), as {@link KubeFetch} receives them. */
export type KubeRequestInit = RequestInit & { client?: Deno.HttpClient };

/** `fetch` as the client calls it. */
export type KubeFetch = (url: string, init: KubeRequestInit) => Promise<Response>;

/** Query parameters; `undefined` values are left out. */
export type KubeQuery = Readonly<Record<string, string | number | boolean | undefined>>;

/** Dependencies and tuning of {@link KubeClient}; all default to Deno's. */
export interface KubeClientDeps {
  /** HTTP requests. */
  readonly fetch?: KubeFetch;
  /** Token file reading. */
  readonly fs?: KubeFs;
  /** Milliseconds since the epoch, for the token cache. */
  readonly now?: () => number;
  /** Builds the TLS client (CA bundle, client certificate); `Deno.createHttpClient`. */
  readonly createHttpClient?: (options: Deno.CreateHttpClientOptions & TlsPem) => Deno.HttpClient;
  /** How long a token read from a file is used before it is read again (default 60 s). */
  readonly tokenRefreshMs?: number;
}

/** A PEM certificate and key pair for `Deno.createHttpClient`. */
export interface TlsPem {
  /** PEM certificate chain. */
  readonly cert?: string;
  /** PEM private key. */
  readonly key?: string;
}

const DEFAULT_TOKEN_REFRESH_MS = 60_000;

/**
 * A minimal Kubernetes API client over `fetch`: JSON GET and POST, and watch streams. Bearer
 * tokens from a file are re-read every `tokenRefreshMs` and after a 401, since projected
 * service-account tokens rotate.
 */
export class KubeClient {
  /** The connection this client uses. */
  readonly connection: KubeConnection;
  readonly #fetch: KubeFetch;
  readonly #fs: KubeFs;
  readonly #now: () => number;
  readonly #tokenRefreshMs: number;
  readonly #httpClient: Deno.HttpClient | null;
  #token: { value: string; readAt: number } | null = null;

  /** Creates the TLS client when the connection has a CA or a client certificate. */
  constructor(connection: KubeConnection, deps: KubeClientDeps = {}) {
    this.connection = connection;
    this.#fetch = deps.fetch ?? ((url, init) => fetch(url, init));
    this.#fs = deps.fs ?? Deno;
    this.#now = deps.now ?? Date.now;
    this.#tokenRefreshMs = deps.tokenRefreshMs ?? DEFAULT_TOKEN_REFRESH_MS;
    this.#httpClient = tlsClient(connection, deps.createHttpClient ?? Deno.createHttpClient);
  }

  /** GETs `path` and returns the parsed JSON body. */
  async get(path: string, query: KubeQuery = {}, signal?: AbortSignal): Promise<unknown> {
    const res = await this.#request("GET", path, query, undefined, signal);
    return await jsonBody(res, path);
  }

  /** POSTs `body` as JSON to `path` and returns the parsed JSON answer. */
  async post(path: string, body: unknown, signal?: AbortSignal): Promise<unknown> {
    const res = await this.#request("POST", path, {}, JSON.stringify(body), signal);
    return await jsonBody(res, path);
  }

  /**
   * Opens a watch (`watch=1` is added) and returns the event stream: newline-delimited JSON
   * events. The caller reads or cancels it; aborting `signal` ends it.
   */
  async watch(
    path: string,
    query: KubeQuery,
    signal?: AbortSignal,
  ): Promise<ReadableStream<Uint8Array>> {
    const res = await this.#request("GET", path, { ...query, watch: 1 }, undefined, signal);
    if (res.body === null) {
      throw new KubeApiError("parse", path, res.status, `watch ${path}: no body`);
    }
    return res.body;
  }

  /** Releases the TLS client (pooled connections). */
  close(): void {
    this.#httpClient?.close();
  }

  async #request(
    method: string,
    path: string,
    query: KubeQuery,
    body: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<Response> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    const token = await this.#bearer(path);
    if (token !== null) headers["authorization"] = `Bearer ${token}`;
    const init: KubeRequestInit = { method, headers };
    if (body !== undefined) init.body = body;
    if (signal !== undefined) init.signal = signal;
    if (this.#httpClient !== null) init.client = this.#httpClient;
    let res: Response;
    try {
      res = await this.#fetch(this.connection.server + path + queryString(query), init);
    } catch (err) {
      if (signal?.aborted) throw err;
      throw new KubeApiError("network", path, null, `${method} ${path}: ${errorText(err)}`);
    }
    if (res.ok) return res;
    if (res.status === 401) this.#token = null; // a rotated token: read the file again next time
    throw await statusError(method, path, res);
  }

  async #bearer(path: string): Promise<string | null> {
    const { token, tokenFile } = this.connection;
    if (token !== null) return token;
    if (tokenFile === null) return null;
    const now = this.#now();
    if (this.#token !== null && now - this.#token.readAt < this.#tokenRefreshMs) {
      return this.#token.value;
    }
    try {
      this.#token = { value: (await this.#fs.readTextFile(tokenFile)).trim(), readAt: now };
    } catch (err) {
      // A token file mid-rotation may be briefly missing: keep using the last one read.
      if (this.#token !== null) return this.#token.value;
      throw new KubeApiError("token", path, null, `token file ${tokenFile}: ${errorText(err)}`);
    }
    return this.#token.value;
  }
}

function tlsClient(
  conn: KubeConnection,
  create: (options: Deno.CreateHttpClientOptions & TlsPem) => Deno.HttpClient,
): Deno.HttpClient | null {
  if (!conn.server.startsWith("https:")) return null;
  if (conn.caCert === null && conn.clientCert === null) return null;
  const options: Deno.CreateHttpClientOptions & { cert?: string; key?: string } = {};
  // With insecure-skip-tls-verify the CA is not pinned; verification is then off only when the
  // process runs with --unsafely-ignore-certificate-errors (Deno has no per-client switch).
  if (conn.caCert !== null && !conn.insecureSkipTlsVerify) options.caCerts = [conn.caCert];
  if (conn.clientCert !== null && conn.clientKey !== null) {
    options.cert = conn.clientCert;
    options.key = conn.clientKey;
  }
  return create(options);
}

function queryString(query: KubeQuery): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
  const s = params.toString();
  return s === "" ? "" : `?${s}`;
}

async function jsonBody(res: Response, path: string): Promise<unknown> {
  let text: string;
  try {
    text = await res.text();
  } catch (err) {
    throw new KubeApiError("network", path, res.status, `${path}: body: ${errorText(err)}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new KubeApiError("parse", path, res.status, `${path}: answer is not JSON`);
  }
}

/** The error for a non-2xx answer, with the `Status` message when the body is one. */
async function statusError(method: string, path: string, res: Response): Promise<KubeApiError> {
  let detail = "";
  try {
    const body: unknown = JSON.parse(await res.text());
    if (typeof body === "object" && body !== null && "message" in body) {
      detail = `: ${String(body.message)}`;
    }
  } catch {
    // Not a Status object: the status code alone says enough.
  }
  return new KubeApiError(
    "status",
    path,
    res.status,
    `${method} ${path}: HTTP ${res.status}${detail}`,
  );
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
