import {
  type KubeconfigContext,
  KubeConfigError,
  resolveKubeconfig,
  SERVICE_ACCOUNT_DIR,
} from "./kubeconfig.ts";

/**
 * An API server address as configured, unchecked: the launcher validates the host before it
 * becomes a permission grant (a comma in it would widen Deno's comma-separated list).
 */
export interface KubeNetTarget {
  /** Host name or IP literal, IPv6 without brackets. */
  readonly host: string;
  /** Port as configured, or `null` when the URL names none (the host is then granted alone). */
  readonly port: string | null;
  /** Where the address comes from, for messages. */
  readonly source: string;
}

/** What a provider's API access needs from the sandbox: addresses, files, env variables. */
export interface KubeAccess {
  /** The API server (empty when it cannot be known). */
  readonly net: readonly KubeNetTarget[];
  /** Absolute paths: the kubeconfig and the files it names, or the service-account mount. */
  readonly read: readonly string[];
  /** Environment variables read (in-cluster only). */
  readonly env: readonly string[];
}

/** What {@link kubeAccess} reads; the launcher passes Deno's, tests fake them. */
export interface KubeAccessDeps {
  /** Reads a file synchronously (throws when it cannot). */
  readonly readTextFile: (path: string) => string;
  /** Environment lookup. */
  readonly env: (name: string) => string | undefined;
}

const IN_CLUSTER_ENV = ["KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"];

/**
 * The access one provider's `kubeconfig` setting (an absolute path, or `null` = in-cluster)
 * needs: in-cluster, the API at `KUBERNETES_SERVICE_HOST:PORT` (when set), the service-account
 * mount and those two variables; else the kubeconfig file, the current context's API server and
 * the certificate, key and token files it names (relative to the kubeconfig). A kubeconfig that
 * cannot be read or parsed yields the file alone: the router then reports the real error.
 *
 * @throws {KubeConfigError} `parse`: the context's server is not an http(s) URL.
 */
export function kubeAccess(kubeconfig: string | null, deps: KubeAccessDeps): KubeAccess {
  if (kubeconfig === null) {
    const host = deps.env("KUBERNETES_SERVICE_HOST") ?? "";
    const port = deps.env("KUBERNETES_SERVICE_PORT") ?? "";
    const source = "in-cluster $KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT";
    const net = host !== "" && port !== "" ? [{ host, port, source }] : [];
    return { net, read: [SERVICE_ACCOUNT_DIR], env: IN_CLUSTER_ENV };
  }
  let context: KubeconfigContext;
  try {
    context = resolveKubeconfig(deps.readTextFile(kubeconfig), kubeconfig);
  } catch {
    // The router reads the same file and reports the real error; it needs only the file.
    return { net: [], read: [kubeconfig], env: [] };
  }
  return { net: [serverTarget(context)], read: [kubeconfig, ...context.files], env: [] };
}

/** The host and explicit port of the context's server URL. */
function serverTarget(context: KubeconfigContext): KubeNetTarget {
  let url: URL | null = null;
  try {
    url = new URL(context.server);
  } catch {
    // Reported below, with the other non-http(s) servers.
  }
  if (url === null || (url.protocol !== "https:" && url.protocol !== "http:")) {
    throw new KubeConfigError(
      "parse",
      `${context.source}: server ${JSON.stringify(context.server)} is not a valid http(s) URL`,
    );
  }
  return {
    host: url.hostname.replace(/^\[|\]$/g, ""),
    port: url.port === "" ? null : url.port,
    source: `the API server of ${context.source}`,
  };
}
