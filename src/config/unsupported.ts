import type { Obj, Reader } from "./fields.ts";

/**
 * Rejects the sections this build cannot run yet: a non-empty `plugins` list and any
 * `discovery` section. Returns the discovery provider names that pools may reference (none
 * yet). This is the one place to replace when plugins and discovery are implemented.
 */
export function readUnsupported(r: Reader, root: Obj | undefined): ReadonlySet<string> {
  const plugins = root?.get("plugins");
  const list = r.list(plugins, "plugins");
  if (plugins !== undefined && list !== undefined && list.length > 0) {
    r.report(
      "unsupported",
      "plugins",
      root?.keyPosition("plugins") ?? null,
      "plugins are not supported yet by this build",
    );
  }
  const discovery = root?.get("discovery");
  if (discovery !== undefined && discovery.kind !== "null") {
    const detail = "discovery providers are not supported yet by this build";
    r.report("unsupported", "discovery", root?.keyPosition("discovery") ?? null, detail);
  }
  return new Set();
}
