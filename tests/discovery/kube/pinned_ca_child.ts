/**
 * Run by `pinned_test.ts` in a process that verifies TLS (no
 * `--unsafely-ignore-certificate-errors`) and trusts CA B process-wide (`DENO_CERT`). Args: the
 * fake API server's URL and a directory holding `a.pem` and the kubeconfigs `kubeconfig-a`
 * (names CA A) and `kubeconfig-b` (names CA B). Prints one JSON object: what each attempt gave.
 */
import { KubeClient } from "../../../src/discovery/kube/client.ts";
import { loadKubeConnection } from "../../../src/discovery/kube/kubeconfig.ts";

const [server, dir] = Deno.args;
if (server === undefined || dir === undefined) throw new Error("usage: <server url> <dir>");
const results: Record<string, string> = {};

// The premise: Deno adds `caCerts` to the process's roots, so fetch accepts B's server here.
const caA = await Deno.readTextFile(`${dir}/a.pem`);
const httpClient = Deno.createHttpClient({ caCerts: [caA] });
try {
  const res = await fetch(`${server}/api/v1/pods`, { client: httpClient });
  await res.body?.cancel();
  results["fetch_with_ca_a"] = `ok ${res.status}`;
} catch (err) {
  results["fetch_with_ca_a"] = `error ${text(err)}`;
} finally {
  httpClient.close();
}

for (const name of ["a", "b"]) {
  const client = new KubeClient(await loadKubeConnection(`${dir}/kubeconfig-${name}`));
  try {
    const list = await client.get("/api/v1/pods") as { items: unknown[] };
    results[`kube_client_${name}`] = `ok ${list.items.length}`;
  } catch (err) {
    results[`kube_client_${name}`] = `error ${text(err)}`;
  } finally {
    client.close();
  }
}
console.log(JSON.stringify(results));

function text(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
