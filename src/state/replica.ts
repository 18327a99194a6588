/**
 * This process's replica id, as the admin status shows it: `POD_NAME` (the Deployment sets it
 * from the downward API), else `HOSTNAME` (a pod's name too, and a container's id under Docker),
 * else an id made up at start (`gatehouse-<8 hex>`). Only printable text of at most 253
 * characters is taken from the environment.
 */
export function replicaId(env: (name: string) => string | undefined = readEnv): string {
  for (const name of ["POD_NAME", "HOSTNAME"]) {
    const value = env(name)?.trim() ?? "";
    if (value !== "" && value.length <= 253 && /^[\x21-\x7e]+$/.test(value)) return value;
  }
  const bytes = crypto.getRandomValues(new Uint8Array(4));
  return `gatehouse-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

// Without an env grant for the name, a lookup throws: the next source is used instead.
function readEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}
