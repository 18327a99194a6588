import type { Logger } from "../../observability/mod.ts";
import { KubeApiError, KubeClient } from "./client.ts";
import { type BackoffOptions, Informer } from "./informer.ts";
import { type KubeConnection, loadKubeConnection } from "./kubeconfig.ts";
import { namespacedPath } from "./paths.ts";

/** A ConfigMap as the API serves it; only what the state store reads. */
export interface ConfigMapObject {
  /** Name, namespace and the version a replace must name. */
  readonly metadata?: {
    readonly name?: string;
    readonly namespace?: string;
    readonly resourceVersion?: string;
  };
  /** The text entries. */
  readonly data?: Readonly<Record<string, unknown>>;
}

/** How {@link ConfigMapApi.open} connects; all optional. */
export interface ConfigMapApiOptions {
  /** Resolves the connection (default: the kubeconfig, or in-cluster when `null`). */
  readonly connect?: (kubeconfig: string | null) => Promise<KubeConnection>;
  /** Allow credentials to a plain `http://` API server (tests' fake server). */
  readonly insecureHttp?: boolean;
  /** The watch's retry delays (default the informer's: 500 ms up to 30 s; full jitter). */
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
}

const CORE = "/api/v1";

/**
 * One named ConfigMap through {@link KubeClient}: the calls a small shared document needs, with
 * the API's own concurrency control (a replace names the `resourceVersion` it read; the API
 * refuses it with 409 when another writer came first). Watching is an {@link Informer} on the
 * namespace's ConfigMaps with `fieldSelector=metadata.name=<name>` (which RBAC `resourceNames`
 * can authorise), so a broken watch re-lists with the informer's back-off.
 */
export class ConfigMapApi {
  readonly #client: Pick<KubeClient, "get" | "post" | "put" | "watch" | "close">;
  readonly #collection: string;
  readonly #name: string;
  readonly #backoff: BackoffOptions | undefined;
  /** `namespace/name at <server>`, for log lines and the admin status. */
  readonly where: string;

  private constructor(
    client: KubeClient,
    namespace: string,
    name: string,
    backoff?: BackoffOptions,
  ) {
    this.#client = client;
    this.#collection = namespacedPath(CORE, "configmaps", namespace);
    this.#name = name;
    this.#backoff = backoff;
    this.where = `configmap ${namespace}/${name} at ${client.connection.server}`;
  }

  /**
   * Connects as discovery does for the same `kubeconfig` setting (`null` = in-cluster).
   *
   * @throws {KubeConfigError} the kubeconfig or in-cluster environment cannot be used.
   */
  static async open(
    kubeconfig: string | null,
    ref: { readonly namespace: string; readonly name: string },
    options: ConfigMapApiOptions = {},
  ): Promise<ConfigMapApi> {
    const connection = await (options.connect ?? loadKubeConnection)(kubeconfig);
    const client = new KubeClient(connection, { insecureHttp: options.insecureHttp === true });
    return new ConfigMapApi(client, ref.namespace, ref.name, options.backoff);
  }

  get #path(): string {
    return `${this.#collection}/${encodeURIComponent(this.#name)}`;
  }

  /** The ConfigMap, or `null` when it does not exist. */
  async get(signal?: AbortSignal): Promise<ConfigMapObject | null> {
    try {
      return asConfigMap(await this.#client.get(this.#path, {}, signal), this.#path);
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return null;
      throw err;
    }
  }

  /** Creates it with `data`; `"exists"` when another writer created it first (409). */
  async create(
    data: Readonly<Record<string, string>>,
    signal?: AbortSignal,
  ): Promise<ConfigMapObject | "exists"> {
    const body = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: this.#name }, data };
    try {
      return asConfigMap(await this.#client.post(this.#collection, body, signal), this.#path);
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 409) return "exists";
      throw err;
    }
  }

  /**
   * Replaces its `data`, provided it is still at `resourceVersion`; `"conflict"` when it changed
   * in between (409), `"gone"` when it was deleted (404).
   */
  async replace(
    data: Readonly<Record<string, string>>,
    resourceVersion: string,
    signal?: AbortSignal,
  ): Promise<ConfigMapObject | "conflict" | "gone"> {
    const body = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: this.#name, resourceVersion },
      data,
    };
    try {
      return asConfigMap(await this.#client.put(this.#path, body, signal), this.#path);
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 409) return "conflict";
      if (err instanceof KubeApiError && err.status === 404) return "gone";
      throw err;
    }
  }

  /**
   * Calls `onChange` with the ConfigMap (or `null` once it is deleted) after the first list and
   * after every change, until the returned function is called. Never throws: API errors are
   * logged and retried with back-off, the last state kept meanwhile.
   */
  watch(onChange: (configMap: ConfigMapObject | null) => void, logger: Logger): () => void {
    const stop = new AbortController();
    const informer: Informer<ConfigMapObject> = new Informer<ConfigMapObject>({
      client: this.#client,
      path: this.#collection,
      fieldSelector: `metadata.name=${this.#name}`,
      logger,
      subject: "state ConfigMap",
      signal: stop.signal,
      ...(this.#backoff === undefined ? {} : { backoff: this.#backoff }),
      onChange: () => {
        const found = informer.items().find((o) => o.metadata?.name === this.#name);
        onChange(found ?? null);
      },
    });
    void informer.run();
    return () => stop.abort();
  }

  /** Releases the client's connections (stop watches first). */
  close(): void {
    this.#client.close();
  }
}

function asConfigMap(body: unknown, path: string): ConfigMapObject {
  if (typeof body !== "object" || body === null) {
    throw new KubeApiError("parse", path, null, `${path}: answer is not a ConfigMap`);
  }
  return body as ConfigMapObject;
}
