import { parse as parseYaml, YAMLError } from "yaml";

/** Where the service-account mount lives inside a pod. */
export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** File reading, injectable for tests. */
export interface KubeFs {
  /** Reads the whole file as UTF-8 text. */
  readTextFile(path: string): Promise<string>;
}

/** Environment lookup, injectable for tests (`Deno.env.get` by default). */
export type KubeEnv = (name: string) => string | undefined;

/** How to reach and authenticate to one API server, resolved from a kubeconfig or the pod. */
export interface KubeConnection {
  /** Base URL without a trailing slash, e.g. `https://10.96.0.1:443`. */
  readonly server: string;
  /**
   * PEM of the CA bundle; when set (and TLS is verified), the only CA trusted for this server
   * (`pinned.ts`). `null`: the process's roots.
   */
  readonly caCert: string | null;
  /** `insecure-skip-tls-verify: true` (Deno can only honour it process-wide; see README). */
  readonly insecureSkipTlsVerify: boolean;
  /** PEM client certificate and key (both or neither). */
  readonly clientCert: string | null;
  /** PEM client key. */
  readonly clientKey: string | null;
  /** A fixed bearer token, or `null`. */
  readonly token: string | null;
  /** A file holding the bearer token, re-read periodically (it rotates), or `null`. */
  readonly tokenFile: string | null;
  /** The context's or the pod's namespace, or `null`. */
  readonly namespace: string | null;
  /** For messages: `in-cluster` or `kubeconfig <file> context <name> (cluster <name>)`. */
  readonly source: string;
}

/** What went wrong resolving a connection. */
export type KubeConfigErrorCode =
  | "read"
  | "parse"
  | "missing"
  | "unsupported"
  | "env"
  | "insecure";

/** The kubeconfig or the in-cluster environment cannot be used; the message names the entry. */
export class KubeConfigError extends Error {
  /** Fixed, so logs and stack traces name the class. */
  override readonly name = "KubeConfigError";
  /** `read`: a file could not be read; `parse`: not YAML / wrong shape; `missing`: a named entry or field is absent; `unsupported`: exec or auth-provider plugins; `env`: in-cluster variables unset; `insecure`: credentials to a plain `http://` server (see `insecure_http`). */
  readonly code: KubeConfigErrorCode;
  /** `code` and a message naming the file and entry. */
  constructor(code: KubeConfigErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** Dependencies of {@link loadKubeConnection}; all default to Deno's. */
export interface KubeConnectionDeps {
  /** File reading. */
  readonly fs?: KubeFs;
  /** Environment lookup. */
  readonly env?: KubeEnv;
}

/**
 * The connection for a provider's `kubeconfig` setting: `null` or `""` = in-cluster service
 * account, else the file's current context.
 */
export async function loadKubeConnection(
  kubeconfig: string | null,
  deps: KubeConnectionDeps = {},
): Promise<KubeConnection> {
  const fs = deps.fs ?? Deno;
  if (kubeconfig === null || kubeconfig === "") {
    return await inClusterConnection(fs, deps.env ?? ((name) => Deno.env.get(name)));
  }
  return await kubeconfigConnection(kubeconfig, fs);
}

async function inClusterConnection(fs: KubeFs, env: KubeEnv): Promise<KubeConnection> {
  const host = env("KUBERNETES_SERVICE_HOST") ?? "";
  const port = env("KUBERNETES_SERVICE_PORT") ?? "";
  if (host === "" || port === "") {
    throw new KubeConfigError(
      "env",
      "in-cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set " +
        "(or configure a kubeconfig file)",
    );
  }
  const hostPart = host.includes(":") ? `[${host}]` : host;
  const caCert = await readFile(fs, `${SERVICE_ACCOUNT_DIR}/ca.crt`, "in-cluster CA");
  let namespace: string | null = null;
  try {
    namespace = (await fs.readTextFile(`${SERVICE_ACCOUNT_DIR}/namespace`)).trim() || null;
  } catch {
    // The namespace file is optional: the providers name their namespaces.
  }
  return {
    server: `https://${hostPart}:${port}`,
    caCert,
    insecureSkipTlsVerify: false,
    clientCert: null,
    clientKey: null,
    token: null,
    tokenFile: `${SERVICE_ACCOUNT_DIR}/token`,
    namespace,
    source: "in-cluster",
  };
}

type Entry = Readonly<Record<string, unknown>>;

/** A kubeconfig's current context, resolved: its entries and the API server. */
export interface KubeconfigContext {
  /** For messages: `kubeconfig <file> context <name> (cluster <name>)`. */
  readonly source: string;
  /** The current context's cluster name. */
  readonly clusterName: string;
  readonly context: Entry;
  readonly cluster: Entry;
  readonly user: Entry;
  /** The context's user name, or `null` when it names none. */
  readonly userName: string | null;
  /** `cluster.server` without a trailing slash. */
  readonly server: string;
  /** The kubeconfig's directory (relative paths in it are relative to it). */
  readonly dir: string;
  /** The files the context names (CA, client certificate and key, token file), resolved. */
  readonly files: readonly string[];
}

/**
 * Resolves the current context of kubeconfig `text` (read from `file`). The one reader of
 * kubeconfig structure: the connection and the launcher's permission grants both use it.
 *
 * @throws {KubeConfigError} `parse`, `missing`, or `unsupported` (exec / auth-provider users).
 */
export function resolveKubeconfig(text: string, file: string): KubeconfigContext {
  let doc: unknown;
  try {
    // Plain errors: the library's pretty ones quote the offending line, which may hold a token.
    doc = parseYaml(text, { prettyErrors: false });
  } catch (err) {
    throw new KubeConfigError(
      "parse",
      `kubeconfig ${file}: not valid YAML: ${yamlProblem(err, text)}`,
    );
  }
  if (!isEntry(doc)) throw new KubeConfigError("parse", `kubeconfig ${file}: not a mapping`);
  const contextName = stringField(doc, "current-context");
  if (contextName === null) {
    throw new KubeConfigError("missing", `kubeconfig ${file}: no current-context`);
  }
  const context = named(doc, "contexts", "context", contextName, file);
  const clusterName = stringField(context, "cluster") ?? "";
  const cluster = named(doc, "clusters", "cluster", clusterName, file);
  const userName = stringField(context, "user");
  const user = userName === null ? {} : named(doc, "users", "user", userName, file);
  if (user["exec"] !== undefined || user["auth-provider"] !== undefined) {
    const plugin = user["exec"] !== undefined ? "exec" : "auth-provider";
    throw new KubeConfigError(
      "unsupported",
      `kubeconfig ${file}: user "${userName}" uses an ${plugin} credential plugin, which ` +
        "Gatehouse does not run; use a token, tokenFile or client certificate",
    );
  }
  const server = stringField(cluster, "server");
  if (server === null) {
    throw new KubeConfigError(
      "missing",
      `kubeconfig ${file}: cluster "${clusterName}" has no server`,
    );
  }
  const dir = dirOf(file);
  const files = [
    // A `-data` form wins over the file form (see `pem`), so the file is then never read.
    stringField(cluster, "certificate-authority-data")
      ? null
      : stringField(cluster, "certificate-authority"),
    stringField(user, "client-certificate-data") ? null : stringField(user, "client-certificate"),
    stringField(user, "client-key-data") ? null : stringField(user, "client-key"),
    stringField(user, "tokenFile"),
  ].flatMap((f) => f === null ? [] : [resolvePath(dir, f)]);
  const source = `kubeconfig ${file} context ${contextName} (cluster ${clusterName})`;
  return {
    source,
    clusterName,
    context,
    cluster,
    user,
    userName,
    server: server.replace(/\/+$/, ""),
    dir,
    files,
  };
}

async function kubeconfigConnection(file: string, fs: KubeFs): Promise<KubeConnection> {
  const k = resolveKubeconfig(await readFile(fs, file, "kubeconfig"), file);
  const clientCert = await pem(fs, k.user, "client-certificate", k.dir, file);
  const clientKey = await pem(fs, k.user, "client-key", k.dir, file);
  if ((clientCert === null) !== (clientKey === null)) {
    throw new KubeConfigError(
      "missing",
      `kubeconfig ${file}: user "${k.userName}" needs both client-certificate and client-key`,
    );
  }
  const tokenFile = stringField(k.user, "tokenFile");
  const caCert = await pem(fs, k.cluster, "certificate-authority", k.dir, file);
  const insecureSkipTlsVerify = k.cluster["insecure-skip-tls-verify"] === true;
  if (caCert !== null && insecureSkipTlsVerify) {
    // As kubectl: skipping verification would silently drop the CA the file pins.
    throw new KubeConfigError(
      "insecure",
      `${k.source}: certificate-authority and insecure-skip-tls-verify together; pick one`,
    );
  }
  return {
    server: k.server,
    caCert,
    insecureSkipTlsVerify,
    clientCert,
    clientKey,
    token: stringField(k.user, "token"),
    tokenFile: tokenFile === null ? null : resolvePath(k.dir, tokenFile),
    namespace: stringField(k.context, "namespace"),
    source: k.source,
  };
}

/** The `<list>[].<field>` entry whose `name` is `name`. */
function named(doc: Entry, list: string, field: string, name: string, file: string): Entry {
  const entries = doc[list];
  if (Array.isArray(entries)) {
    for (const e of entries) {
      if (isEntry(e) && e["name"] === name) {
        const inner = e[field];
        return isEntry(inner) ? inner : {};
      }
    }
  }
  throw new KubeConfigError("missing", `kubeconfig ${file}: no ${field} named "${name}"`);
}

/** `<key>-data` (base64) wins over `<key>` (a file path, relative to the kubeconfig). */
async function pem(
  fs: KubeFs,
  entry: Entry,
  key: string,
  dir: string,
  file: string,
): Promise<string | null> {
  const data = stringField(entry, `${key}-data`);
  if (data !== null) {
    try {
      const bytes = Uint8Array.from(atob(data.replace(/\s+/g, "")), (c) => c.charCodeAt(0));
      return new TextDecoder().decode(bytes);
    } catch {
      throw new KubeConfigError("parse", `kubeconfig ${file}: ${key}-data is not base64`);
    }
  }
  const path = stringField(entry, key);
  return path === null ? null : await readFile(fs, resolvePath(dir, path), `kubeconfig ${key}`);
}

async function readFile(fs: KubeFs, path: string, what: string): Promise<string> {
  try {
    return await fs.readTextFile(path);
  } catch (err) {
    throw new KubeConfigError("read", `${what}: cannot read ${path}: ${errorText(err)}`);
  }
}

function stringField(entry: Entry, key: string): string | null {
  const v = entry[key];
  return typeof v === "string" && v !== "" ? v : null;
}

function isEntry(v: unknown): v is Entry {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function dirOf(file: string): string {
  const i = file.lastIndexOf("/");
  return i < 0 ? "." : file.slice(0, i) || "/";
}

function resolvePath(dir: string, path: string): string {
  return path.startsWith("/") ? path : `${dir}/${path}`;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

// The parser's message and where, as line:column — never the text around it.
function yamlProblem(err: unknown, text: string): string {
  const offset = err instanceof YAMLError ? err.pos[0] : -1;
  if (offset < 0) return errorText(err);
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  const column = offset - before.lastIndexOf("\n");
  return `${errorText(err)} at line ${line}, column ${column}`;
}
