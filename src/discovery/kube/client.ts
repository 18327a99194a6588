import { KubeConfigError, type KubeConnection, type KubeFs } from "./kubeconfig.ts";
import type tls from "node:tls";
import { PinnedTransport } from "./pinned.ts";
import { CaBundleError, PinnedCa } from "./trust.ts";

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
  /** HTTP requests; replaces every transport, the pinned-CA one included (tests). */
  readonly fetch?: KubeFetch;
  /** Token file reading. */
  readonly fs?: KubeFs;
  /** Milliseconds since the epoch, for the token cache. */
  readonly now?: () => number;
  /** Builds the TLS client (CA bundle, client certificate); `Deno.createHttpClient`. */
  readonly createHttpClient?: (options: Deno.CreateHttpClientOptions & TlsPem) => Deno.HttpClient;
  /** How long a token read from a file is used before it is read again (default 60 s). */
  readonly tokenRefreshMs?: number;
  /**
   * Allow credentials to a plain `http://` server (the provider's `insecure_http`); without it
   * such a connection is refused when it has a token, token file or client certificate.
   */
  readonly insecureHttp?: boolean;
  /** Opens the TLS connections of a pinned CA (default `tls.connect`); tests wrap it. */
  readonly tlsConnect?: (options: tls.ConnectionOptions) => tls.TLSSocket;
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
 * A minimal Kubernetes API client: JSON GET, POST and PUT, and watch streams, over `fetch` — or,
 * when a CA is configured, over connections that trust that CA alone (`pinned.ts`). Bearer
 * tokens from a file are re-read every `tokenRefreshMs` and after a 401, since projected
 * service-account tokens rotate. Credentials never go to a plain `http://` server unless
 * `insecureHttp` allows it.
 */
export class KubeClient {
  /** The connection this client uses. */
  readonly connection: KubeConnection;
  readonly #fetch: KubeFetch;
  readonly #fs: KubeFs;
  readonly #now: () => number;
  readonly #tokenRefreshMs: number;
  readonly #close: () => void;
  #token: { value: string; readAt: number } | null = null;
  /**
   * What this client sends in clear text (credentials to a plain `http://` server, allowed by
   * `insecureHttp`), or `null`.
   */
  readonly insecure: string | null;

  /**
   * Sets up the transport: with a CA (and no `insecure-skip-tls-verify`), connections that
   * trust that CA only (`pinned.ts`); else `fetch`, through a `Deno.createHttpClient` when
   * there is a client certificate.
   *
   * @throws {KubeConfigError} `insecure`: credentials to a plain `http://` server without
   *   `insecureHttp`; `parse`: a CA bundle without a usable certificate.
   */
  constructor(connection: KubeConnection, deps: KubeClientDeps = {}) {
    const insecure = plainHttpProblem(connection);
    if (insecure !== null && deps.insecureHttp !== true) {
      throw new KubeConfigError("insecure", insecure);
    }
    this.insecure = insecure;
    this.connection = connection;
    this.#fs = deps.fs ?? Deno;
    this.#now = deps.now ?? Date.now;
    this.#tokenRefreshMs = deps.tokenRefreshMs ?? DEFAULT_TOKEN_REFRESH_MS;
    const transport = transportFor(connection, deps);
    this.#fetch = transport.fetch;
    this.#close = transport.close;
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
   * PUTs `body` as JSON to `path` (a replace: with `metadata.resourceVersion` set, the API
   * answers 409 Conflict when the object changed since) and returns the parsed JSON answer.
   */
  async put(path: string, body: unknown, signal?: AbortSignal): Promise<unknown> {
    const res = await this.#request("PUT", path, {}, JSON.stringify(body), signal);
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

  /** Releases the transport (pooled connections). */
  close(): void {
    this.#close();
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
    const { server } = this.connection;
    let res: Response;
    try {
      res = await this.#fetch(server + path + queryString(query), init);
    } catch (err) {
      if (signal?.aborted) throw err;
      const detail = `${method} ${path}: API server ${server}: ${errorText(err)}`;
      throw new KubeApiError("network", path, null, detail);
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

/** How requests reach the server, and how to release what that holds. */
interface Transport {
  readonly fetch: KubeFetch;
  readonly close: () => void;
}

function transportFor(conn: KubeConnection, deps: KubeClientDeps): Transport {
  if (isHttps(conn.server) && conn.caCert !== null && !conn.insecureSkipTlsVerify) {
    const pinned = new PinnedTransport({
      caPem: conn.caCert,
      anchors: caAnchors(conn.caCert, conn.source),
      ...(conn.clientCert !== null && conn.clientKey !== null
        ? { cert: conn.clientCert, key: conn.clientKey }
        : {}),
      source: conn.source,
      ...(deps.tlsConnect ? { connect: deps.tlsConnect } : {}),
    });
    return {
      fetch: deps.fetch ?? ((url, init) => pinned.fetch(url, init)),
      close: () => pinned.close(),
    };
  }
  const httpClient = tlsClient(conn, deps.createHttpClient ?? Deno.createHttpClient);
  const send = deps.fetch ?? ((url, init) => fetch(url, init));
  return {
    fetch: httpClient === null ? send : (url, init) => send(url, { ...init, client: httpClient }),
    close: () => httpClient?.close(),
  };
}

function caAnchors(pem: string, source: string) {
  try {
    return new PinnedCa(pem);
  } catch (err) {
    if (!(err instanceof CaBundleError)) throw err;
    throw new KubeConfigError("parse", `${source}: the CA bundle ${err.message}`);
  }
}

/**
 * A client certificate for `fetch` when no CA is pinned: the server is then checked against
 * the process's roots. With `insecure-skip-tls-verify` verification is off only when the
 * process runs with `--unsafely-ignore-certificate-errors` (Deno has no per-client switch).
 */
function tlsClient(
  conn: KubeConnection,
  create: (options: Deno.CreateHttpClientOptions & TlsPem) => Deno.HttpClient,
): Deno.HttpClient | null {
  if (!isHttps(conn.server) || conn.clientCert === null || conn.clientKey === null) return null;
  return create({ cert: conn.clientCert, key: conn.clientKey });
}

/** Why credentials must not go to `conn.server` (plain HTTP), or `null` when none would. */
function plainHttpProblem(conn: KubeConnection): string | null {
  if (isHttps(conn.server)) return null;
  const credentials = [
    conn.token !== null ? "a token" : null,
    conn.tokenFile !== null ? "a token file" : null,
    conn.clientCert !== null ? "a client certificate" : null,
  ].filter((c) => c !== null);
  if (credentials.length === 0) return null;
  return `${conn.source}: server ${conn.server} is plain HTTP and the credentials ` +
    `(${credentials.join(", ")}) would cross the network in clear text; use https://, or set ` +
    "insecure_http: true on the discovery provider to allow it";
}

function isHttps(server: string): boolean {
  return /^https:/i.test(server);
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

/** The message, and its cause's (`fetch` reports "fetch failed" with the reason as cause). */
function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? err.cause.message : "";
  return cause === "" || err.message.includes(cause) ? err.message : `${err.message}: ${cause}`;
}
