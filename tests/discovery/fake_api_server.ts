/**
 * A scriptable Kubernetes API server for tests, speaking the wire protocol the real one does:
 * list JSON with `metadata.resourceVersion` and `limit`/`continue` paging, chunked watch streams
 * of newline-delimited events (with bookmarks when asked), `410 Gone` both as an HTTP status (a
 * too-old resourceVersion) and as an ERROR Status event, the Agones allocation endpoint, a
 * bearer-token check, and single objects: GET, create (POST, 409 when it exists), replace (PUT,
 * 409 Conflict when `metadata.resourceVersion` is not the stored one) and `fieldSelector:
 * metadata.name=X` on lists and watches. Shares no code with `src/` (it imports one type, for `plainConnection`).
 */
import type { KubeConnection } from "../../src/discovery/mod.ts";

/** One request as received. */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly authorization: string | null;
}

/** An object stored in the fake (any JSON with metadata). */
export type ApiObject = {
  metadata: { name: string; namespace?: string; resourceVersion?: string; [k: string]: unknown };
  [k: string]: unknown;
};

interface Change {
  readonly rv: number;
  readonly collection: string;
  readonly type: "ADDED" | "MODIFIED" | "DELETED";
  readonly object: ApiObject;
}

interface Watcher {
  readonly collection: string;
  readonly namespace: string | null;
  readonly selector: string | null;
  readonly name: string | null;
  readonly bookmarks: boolean;
  readonly controller: ReadableStreamDefaultController<Uint8Array>;
}

const PATH_RE = /^(\/api\/v1|\/apis\/[^/]+\/[^/]+)(?:\/namespaces\/([^/]+))?\/([^/]+)$/;
const OBJECT_RE = /^(\/api\/v1|\/apis\/[^/]+\/[^/]+)\/namespaces\/([^/]+)\/([^/]+)\/([^/]+)$/;
const encoder = new TextEncoder();

/** The fake server; `start()` binds it on 127.0.0.1, port 0. */
export class FakeApiServer {
  /** Base URL (`http://127.0.0.1:<port>` or `https://…`). */
  readonly url: string;
  /** Every request, in order. */
  readonly requests: RecordedRequest[] = [];
  /** Replaces (PUT) refused with 409 because the resourceVersion was stale. */
  conflicts = 0;
  /** Bodies of the allocation POSTs received. */
  readonly allocations: unknown[] = [];
  /** The bearer token required, or `null` for none. */
  token: string | null;
  /** The `status` of the GameServerAllocation the allocation endpoint returns. */
  allocationStatus: unknown = {
    state: "Allocated",
    gameServerName: "hytale-fleet-8xk2p-q7w9z",
    ports: [{ name: "gameport", port: 7403 }],
    address: "203.0.113.7",
  };
  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  readonly #objects = new Map<string, Map<string, ApiObject>>();
  readonly #log: Change[] = [];
  readonly #watchers = new Set<Watcher>();
  readonly #waiters: Array<
    { pred: (r: RecordedRequest) => boolean; resolve: (r: RecordedRequest) => void }
  > = [];
  #rv = 100;
  #oldestRv = 0;
  #failures: { count: number; status: number } = { count: 0, status: 500 };

  private constructor(
    options: { token?: string; tls?: { cert: string; key: string } },
  ) {
    this.token = options.token ?? null;
    const serveOptions = { hostname: "127.0.0.1", port: 0, onListen: () => {}, ...options.tls };
    this.#server = Deno.serve(serveOptions, (req) => this.#handle(req));
    const scheme = options.tls === undefined ? "http" : "https";
    this.url = `${scheme}://127.0.0.1:${this.#server.addr.port}`;
  }

  /** Starts a server; `tls` makes it HTTPS, `token` requires `Authorization: Bearer <token>`. */
  static start(
    options: { token?: string; tls?: { cert: string; key: string } } = {},
  ): FakeApiServer {
    return new FakeApiServer(options);
  }

  /** The current resourceVersion. */
  get resourceVersion(): string {
    return String(this.#rv);
  }

  /** Watch streams currently open. */
  get openWatches(): number {
    return this.#watchers.size;
  }

  /** Adds (or replaces) an object in `collection` (e.g. `/api/v1/pods`); returns its new RV. */
  add(collection: string, object: ApiObject): string {
    return this.#change(collection, this.#has(collection, object) ? "MODIFIED" : "ADDED", object);
  }

  /** Changes an object (it must exist); returns its new RV. */
  modify(collection: string, object: ApiObject): string {
    if (!this.#has(collection, object)) throw new Error(`no ${keyOf(object)} in ${collection}`);
    return this.#change(collection, "MODIFIED", object);
  }

  /** Deletes an object by namespace and name; returns the new RV. */
  delete(collection: string, namespace: string, name: string): string {
    const found = this.#objects.get(collection)?.get(`${namespace}/${name}`);
    if (found === undefined) throw new Error(`no ${namespace}/${name} in ${collection}`);
    return this.#change(collection, "DELETED", found);
  }

  /**
   * Forgets history, as etcd compaction does after changes a watcher missed: the resourceVersion
   * moves on and watches from any earlier one get HTTP 410 (a fresh LIST is current again).
   */
  compact(): void {
    this.#rv++;
    this.#oldestRv = this.#rv;
  }

  /** Compacts, then sends every open watch an ERROR 410 event and ends it (as etcd compaction does). */
  expireWatches(): void {
    this.compact();
    const status = goneStatus("too old resource version");
    for (const w of [...this.#watchers]) {
      this.#send(w, { type: "ERROR", object: status });
      this.#end(w, "close");
    }
  }

  /** Ends every open watch: `close` cleanly (as a watch timeout), `reset` by breaking the stream. */
  dropWatches(how: "close" | "reset" = "close"): void {
    for (const w of [...this.#watchers]) this.#end(w, how);
  }

  /** Sends a BOOKMARK with the current resourceVersion to watches that allow bookmarks. */
  bookmark(): void {
    this.#rv++;
    for (const w of this.#watchers) {
      if (!w.bookmarks) continue;
      this.#send(w, {
        type: "BOOKMARK",
        object: { kind: "Bookmark", metadata: { resourceVersion: String(this.#rv) } },
      });
    }
  }

  /** Writes `text` as is to every open watch (split events, malformed lines). */
  sendRaw(text: string): void {
    for (const w of this.#watchers) w.controller.enqueue(encoder.encode(text));
  }

  /** The next `count` requests are answered with `status` (a Status body). */
  failNext(count: number, status = 500): void {
    this.#failures = { count, status };
  }

  /** Resolves with the first request (past or future) matching `pred`. */
  waitForRequest(pred: (r: RecordedRequest) => boolean): Promise<RecordedRequest> {
    const seen = this.requests.find(pred);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => this.#waiters.push({ pred, resolve }));
  }

  /** Ends open watches and stops the server. */
  async close(): Promise<void> {
    this.dropWatches("close");
    await this.#server.shutdown();
  }

  #has(collection: string, object: ApiObject): boolean {
    return this.#objects.get(collection)?.has(keyOf(object)) ?? false;
  }

  #change(collection: string, type: Change["type"], object: ApiObject): string {
    this.#rv++;
    const stored = structuredClone(object);
    stored.metadata.resourceVersion = String(this.#rv);
    let objects = this.#objects.get(collection);
    if (objects === undefined) this.#objects.set(collection, objects = new Map());
    if (type === "DELETED") objects.delete(keyOf(stored));
    else objects.set(keyOf(stored), stored);
    const change = { rv: this.#rv, collection, type, object: stored };
    this.#log.push(change);
    for (const w of this.#watchers) if (matches(w, change)) this.#send(w, change);
    return String(this.#rv);
  }

  #handle(req: Request): Response | Promise<Response> {
    const url = new URL(req.url);
    const recorded: RecordedRequest = {
      method: req.method,
      path: url.pathname,
      query: url.searchParams,
      authorization: req.headers.get("authorization"),
    };
    this.requests.push(recorded);
    for (const w of [...this.#waiters]) {
      if (!w.pred(recorded)) continue;
      this.#waiters.splice(this.#waiters.indexOf(w), 1);
      w.resolve(recorded);
    }
    if (this.token !== null && recorded.authorization !== `Bearer ${this.token}`) {
      return statusResponse(401, "Unauthorized", "Unauthorized");
    }
    if (this.#failures.count > 0) {
      this.#failures.count--;
      return statusResponse(this.#failures.status, "InternalError", "scripted failure");
    }
    const object = OBJECT_RE.exec(url.pathname);
    if (object !== null) {
      const [, prefix = "", namespace = "", resource = "", name = ""] = object;
      return this.#object(req, `${prefix}/${resource}`, namespace, decodeURIComponent(name));
    }
    const m = PATH_RE.exec(url.pathname);
    if (m === null) return statusResponse(404, "NotFound", `no route ${url.pathname}`);
    const [, prefix = "", namespace = null, resource = ""] = m;
    if (req.method === "POST" && resource === "gameserverallocations" && namespace !== null) {
      return this.#allocate(req, namespace);
    }
    const collection = `${prefix}/${resource}`;
    if (req.method === "POST" && namespace !== null) {
      return this.#create(req, collection, namespace);
    }
    if (req.method !== "GET") return statusResponse(405, "MethodNotAllowed", req.method);
    const selector = url.searchParams.get("labelSelector");
    if (url.searchParams.get("watch") === "1") {
      return this.#watch(collection, namespace, selector, url.searchParams);
    }
    return this.#list(collection, namespace, selector, url.searchParams);
  }

  #list(
    collection: string,
    namespace: string | null,
    selector: string | null,
    query: URLSearchParams,
  ): Response {
    const name = nameSelected(query);
    const all = [...(this.#objects.get(collection)?.values() ?? [])]
      .filter((o) => inScope(o, namespace, selector) && (name === null || o.metadata.name === name))
      .sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
    const offset = Number(query.get("continue") ?? "0") || 0;
    const limit = Number(query.get("limit") ?? "0") || all.length;
    const items = all.slice(offset, offset + limit);
    const next = offset + limit < all.length ? String(offset + limit) : undefined;
    const metadata = { resourceVersion: String(this.#rv), ...(next ? { continue: next } : {}) };
    return Response.json({ kind: "List", apiVersion: "v1", metadata, items });
  }

  #watch(
    collection: string,
    namespace: string | null,
    selector: string | null,
    query: URLSearchParams,
  ): Response {
    const from = Number(query.get("resourceVersion") ?? "0");
    if (from < this.#oldestRv) {
      return statusResponse(
        410,
        "Expired",
        `too old resource version: ${from} (${this.#oldestRv})`,
      );
    }
    const bookmarks = query.get("allowWatchBookmarks") === "true";
    let watcher: Watcher | undefined;
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        const name = nameSelected(query);
        watcher = { collection, namespace, selector, name, bookmarks, controller };
        for (const c of this.#log) if (c.rv > from && matches(watcher, c)) this.#send(watcher, c);
        this.#watchers.add(watcher);
      },
      cancel: () => {
        if (watcher !== undefined) this.#watchers.delete(watcher);
      },
    });
    return new Response(body, { headers: { "content-type": "application/json" } });
  }

  /** GET or PUT (replace) of one object. */
  async #object(
    req: Request,
    collection: string,
    namespace: string,
    name: string,
  ): Promise<Response> {
    const stored = this.#objects.get(collection)?.get(`${namespace}/${name}`);
    if (req.method === "GET") {
      if (stored === undefined) return statusResponse(404, "NotFound", `${name} not found`);
      return Response.json(stored);
    }
    if (req.method !== "PUT") return statusResponse(405, "MethodNotAllowed", req.method);
    const body = await req.json() as ApiObject;
    if (stored === undefined) return statusResponse(404, "NotFound", `${name} not found`);
    if (body.metadata?.resourceVersion !== stored.metadata.resourceVersion) {
      this.conflicts++;
      return statusResponse(409, "Conflict", `the object has been modified; ${name}`);
    }
    body.metadata = { ...body.metadata, name, namespace };
    this.#change(collection, "MODIFIED", body);
    return Response.json(this.#objects.get(collection)?.get(`${namespace}/${name}`));
  }

  /** POST to a namespaced collection: create, 409 AlreadyExists when the name is taken. */
  async #create(req: Request, collection: string, namespace: string): Promise<Response> {
    const body = await req.json() as ApiObject;
    const name = body.metadata?.name ?? "";
    if (this.#objects.get(collection)?.has(`${namespace}/${name}`)) {
      return statusResponse(409, "AlreadyExists", `${name} already exists`);
    }
    body.metadata = { ...body.metadata, name, namespace };
    this.#change(collection, "ADDED", body);
    return Response.json(this.#objects.get(collection)?.get(`${namespace}/${name}`), {
      status: 201,
    });
  }

  async #allocate(req: Request, namespace: string): Promise<Response> {
    const body = await req.json() as { spec?: unknown };
    this.allocations.push(body);
    return Response.json({
      kind: "GameServerAllocation",
      apiVersion: "allocation.agones.dev/v1",
      metadata: { name: "allocation-" + this.allocations.length, namespace },
      spec: body.spec ?? {},
      status: this.allocationStatus,
    }, { status: 201 });
  }

  #send(w: Watcher, event: { type: string; object: unknown }): void {
    try {
      w.controller.enqueue(
        encoder.encode(JSON.stringify({ type: event.type, object: event.object }) + "\n"),
      );
    } catch {
      this.#watchers.delete(w); // the client went away
    }
  }

  #end(w: Watcher, how: "close" | "reset"): void {
    this.#watchers.delete(w);
    try {
      if (how === "close") w.controller.close();
      else w.controller.error(new Error("connection reset by fake"));
    } catch {
      // Already ended.
    }
  }
}

function matches(w: Watcher, c: Change): boolean {
  return w.collection === c.collection && inScope(c.object, w.namespace, w.selector) &&
    (w.name === null || c.object.metadata.name === w.name);
}

/** The name a `fieldSelector=metadata.name=X` selects (the only field selector supported). */
function nameSelected(query: URLSearchParams): string | null {
  const field = query.get("fieldSelector");
  if (field === null || field === "") return null;
  const m = /^metadata\.name=(.*)$/.exec(field);
  if (m === null) throw new Error(`fake API server: unsupported fieldSelector ${field}`);
  return m[1] ?? "";
}

function inScope(o: ApiObject, namespace: string | null, selector: string | null): boolean {
  if (namespace !== null && o.metadata.namespace !== namespace) return false;
  if (selector === null || selector === "") return true;
  const labels = (o.metadata.labels ?? {}) as Record<string, string>;
  // Equality terms only (`k=v,k2=v2`): all the tests need.
  return selector.split(",").every((term) => {
    const [k = "", v = ""] = term.split("=");
    return labels[k.trim()] === v.trim();
  });
}

function keyOf(o: ApiObject): string {
  return `${o.metadata.namespace ?? ""}/${o.metadata.name}`;
}

function goneStatus(message: string): Record<string, unknown> {
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason: "Expired",
    code: 410,
  };
}

function statusResponse(code: number, reason: string, message: string): Response {
  const body = code === 410 ? goneStatus(message) : {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason,
    code,
  };
  return Response.json(body, { status: code });
}

/** A plain connection to `server` (no TLS material, no token unless `extra` sets it). */
export function plainConnection(
  server: string,
  extra: Partial<KubeConnection> = {},
): KubeConnection {
  return {
    server,
    caCert: null,
    insecureSkipTlsVerify: false,
    clientCert: null,
    clientKey: null,
    token: null,
    tokenFile: null,
    namespace: null,
    source: "test",
    ...extra,
  };
}
