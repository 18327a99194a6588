import { type KubeconfigContext, resolveKubeconfig, SERVICE_ACCOUNT_DIR } from "./kubeconfig.ts";

/** What a provider's API access needs from the sandbox: addresses, files, env variables. */
export interface KubeAccess {
  /** `host[:port]` of the API server (empty when it cannot be known). */
  readonly net: readonly string[];
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
 */
export function kubeAccess(kubeconfig: string | null, deps: KubeAccessDeps): KubeAccess {
  if (kubeconfig === null) {
    const host = deps.env("KUBERNETES_SERVICE_HOST") ?? "";
    const port = deps.env("KUBERNETES_SERVICE_PORT") ?? "";
    const bracketed = host.includes(":") ? `[${host}]` : host;
    const net = host !== "" && port !== "" ? [`${bracketed}:${port}`] : [];
    return { net, read: [SERVICE_ACCOUNT_DIR], env: IN_CLUSTER_ENV };
  }
  let context: KubeconfigContext;
  try {
    context = resolveKubeconfig(deps.readTextFile(kubeconfig), kubeconfig);
  } catch {
    // The router reads the same file and reports the real error; it needs only the file.
    return { net: [], read: [kubeconfig], env: [] };
  }
  return { net: serverEntry(context.server), read: [kubeconfig, ...context.files], env: [] };
}

/** `host[:port]` of an API server URL (the host alone when the URL has no explicit port). */
function serverEntry(server: string): string[] {
  try {
    const url = new URL(server);
    return [url.port === "" ? url.hostname : `${url.hostname}:${url.port}`];
  } catch {
    return [];
  }
}
