/**
 * HTTPS to an API server with a configured CA, trusting that CA only.
 *
 * Deno's `fetch` cannot do it: `Deno.createHttpClient({ caCerts })` (like `Deno.connectTls`)
 * adds the bundle to the process's root store — Mozilla's roots, the system store with
 * `DENO_TLS_CA_STORE=system`, `DENO_CERT` / `--cert` — so any certificate those trust is
 * accepted, and `fetch` exposes no peer certificate to check afterwards. `node:tls` does expose
 * it, and `node:https` lets an agent hand over a connection of its own making. So every
 * connection is made here: TLS with the CA as `ca`, then, before the agent hands the socket to
 * the request (nothing has been written on it yet), `PinnedCa#problem` checks the presented
 * certificate against the configured CA alone. A failed check closes the socket; the request
 * — and its bearer token — is never sent. The handshake itself (that the server holds the key
 * of the certificate it presents) is verified by the TLS layer.
 */
import type { Duplex } from "node:stream";
import { Readable } from "node:stream";
import type { IncomingMessage } from "node:http";
import https from "node:https";
import tls from "node:tls";
import type { PinnedCa } from "./trust.ts";

/** What a pinned connection needs: the CA (PEM and parsed) and an optional client certificate. */
export interface PinnedTlsOptions {
  /** The configured CA bundle, as PEM (handed to the TLS layer). */
  readonly caPem: string;
  /** The same bundle parsed: the only anchors a connection is accepted under. */
  readonly anchors: PinnedCa;
  /** PEM client certificate chain, with `key`. */
  readonly cert?: string;
  /** PEM client key. */
  readonly key?: string;
  /** Where the CA came from, for messages (`kubeconfig … context …`, `in-cluster`). */
  readonly source: string;
  /** Opens the TLS connection (default `tls.connect`); tests wrap it. */
  readonly connect?: (options: tls.ConnectionOptions) => tls.TLSSocket;
  /** The time certificates are checked at (default now). */
  readonly now?: () => Date;
}

/** A TLS connection refused by the pinned-CA check; the message says why. */
export class PinnedTlsError extends Error {
  /** Fixed, so logs and stack traces name the class. */
  override readonly name = "PinnedTlsError";
  /** Always `untrusted_certificate`. */
  readonly code = "untrusted_certificate";
}

type ConnectionCallback = (err: Error | null, socket: Duplex) => void;

/** An agent whose every new connection is pinned to the configured CA (see the module doc). */
class PinnedAgent extends https.Agent {
  readonly #options: PinnedTlsOptions;

  constructor(options: PinnedTlsOptions) {
    super({ keepAlive: true });
    this.#options = options;
  }

  /**
   * The callback form of Node's `Agent#createConnection`: returning `null` makes the agent wait
   * for `callback`, so nothing is written on the socket before the check passes. (The bundled
   * typings know only the synchronous form, hence the cast of the `null`.)
   */
  override createConnection(
    options: https.RequestOptions,
    callback?: ConnectionCallback,
  ): Duplex {
    const o = this.#options;
    const host = options.hostname ?? options.host ?? "localhost";
    const socket = (o.connect ?? tls.connect)({
      host,
      port: Number(options.port ?? 443),
      // SNI is for names only; an IP literal is checked against the certificate's IP entries.
      ...(options.servername ? { servername: options.servername } : {}),
      ca: o.caPem,
      ...(o.cert !== undefined && o.key !== undefined ? { cert: o.cert, key: o.key } : {}),
    });
    let settled = false;
    const settle = (err: Error | null) => {
      if (settled) return;
      settled = true;
      if (err !== null) socket.destroy();
      callback?.(err, socket);
    };
    socket.once("error", (err: Error) => settle(tlsError(err, o.source)));
    socket.once("secureConnect", () => {
      const chain = peerChain(socket);
      o.anchors.problem(chain, host, (o.now ?? (() => new Date()))()).then(
        (problem) =>
          settle(problem === null ? null : new PinnedTlsError(`${problem} (${caOf(o.source)})`)),
        (err) => settle(err instanceof Error ? err : new Error(String(err))),
      );
    });
    return null as unknown as Duplex;
  }
}

/** The pinned transport of one API client: `fetch`-shaped requests and the pooled sockets. */
export class PinnedTransport {
  readonly #agent: PinnedAgent;

  /** An idle transport; connections open on demand and are kept alive between requests. */
  constructor(options: PinnedTlsOptions) {
    this.#agent = new PinnedAgent(options);
  }

  /** Sends one request (a `fetch` subset: method, string headers, string body, signal). */
  fetch(url: string, init: RequestInit): Promise<Response> {
    const target = new URL(url);
    const { promise, resolve, reject } = Promise.withResolvers<Response>();
    const req = https.request({
      // URL keeps IPv6 literals bracketed; node wants the bare address.
      hostname: target.hostname.replace(/^\[|\]$/g, ""),
      port: target.port === "" ? 443 : Number(target.port),
      path: target.pathname + target.search,
      method: init.method ?? "GET",
      headers: plainHeaders(init.headers),
      agent: this.#agent,
      ...(init.signal ? { signal: init.signal } : {}),
    }, (res) => {
      try {
        resolve(toResponse(res));
      } catch (err) {
        res.destroy();
        reject(err);
      }
    });
    req.once("error", reject);
    req.end(typeof init.body === "string" ? init.body : undefined);
    return promise;
  }

  /** Closes the pooled connections. */
  close(): void {
    this.#agent.destroy();
  }
}

/** DER of the presented certificate and of those above it, as the TLS layer reports them. */
function peerChain(socket: tls.TLSSocket): Uint8Array<ArrayBuffer>[] {
  const chain: Uint8Array<ArrayBuffer>[] = [];
  let cert: tls.DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  // The top of the chain names itself as its issuer; a bound stops any other loop.
  while (cert?.raw !== undefined && chain.length < 16) {
    const der = new Uint8Array(cert.raw);
    if (chain.some((seen) => sameBytes(seen, der))) break;
    chain.push(der);
    cert = cert.issuerCertificate;
  }
  return chain;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/** A TLS-layer failure in words that name the cause, keeping Node's code for the detail. */
function tlsError(err: Error, source: string): Error {
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string" && /CERT|SIGNATURE|ISSUER|ALTNAME/.test(code)) {
    return new PinnedTlsError(
      `the server's certificate is not trusted (${caOf(source)}): ${code}: ${err.message}`,
    );
  }
  return err;
}

function caOf(source: string): string {
  return source === "in-cluster"
    ? "only the in-cluster ca.crt is trusted"
    : `only the CA of ${source} is trusted`;
}

function plainHeaders(headers: HeadersInit | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  new Headers(headers).forEach((value, name) => (out[name] = value));
  return out;
}

/** A web `Response` streaming `res` (a watch body is read as it arrives). */
function toResponse(res: IncomingMessage): Response {
  const headers = new Headers();
  for (const [name, value] of Object.entries(res.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  const status = res.statusCode ?? 0;
  const noBody = status === 204 || status === 304;
  if (noBody) res.resume();
  const body = noBody ? null : Readable.toWeb(res) as ReadableStream<Uint8Array>;
  return new Response(body, { status, statusText: res.statusMessage ?? "", headers });
}
