import type { Obj, Reader } from "./fields.ts";

/**
 * Rejects the sections this build cannot run yet: any `discovery` section. Returns the
 * discovery provider names that pools may reference (none yet). This is the one place to
 * replace when discovery is implemented.
 */
export function readUnsupported(r: Reader, root: Obj | undefined): ReadonlySet<string> {
  const discovery = root?.get("discovery");
  if (discovery !== undefined && discovery.kind !== "null") {
    const detail = "discovery providers are not supported yet by this build";
    r.report("unsupported", "discovery", root?.keyPosition("discovery") ?? null, detail);
  }
  return new Set();
}
