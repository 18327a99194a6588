import { parseCidr } from "./cidr.ts";
import { indexPath, type Reader } from "./fields.ts";
import type { Node } from "./nodes.ts";
import type { AccessConfig, CidrRange } from "./types.ts";

/**
 * Reads the `access` section: `allow` and `deny`, lists of CIDRs (`cidr.ts`). Each bad entry is
 * reported at its own position (`access.deny[0]`); null is absent, as elsewhere. An empty `allow`
 * list is an error: read literally it lets nobody in, which is hardly what an empty list means.
 */
export function readAccess(r: Reader, node: Node | undefined): AccessConfig {
  const obj = r.object(node, "access", ["allow", "deny"]);
  const allowNode = obj?.get("allow");
  const allow = obj && readRanges(r, allowNode, obj.at("allow"));
  if (obj && allowNode?.kind === "seq" && allowNode.items.length === 0) {
    r.report(
      "invalid",
      obj.at("allow"),
      allowNode.position,
      "must not be empty",
      "leave allow out to let every address in; deny everyone with deny: [0.0.0.0/0, ::/0]",
    );
  }
  const deny = obj && readRanges(r, obj.get("deny"), obj.at("deny"));
  return { allow: allow === undefined || allow.length === 0 ? null : allow, deny: deny ?? [] };
}

function readRanges(r: Reader, node: Node | undefined, path: string): CidrRange[] | undefined {
  const items = r.list(node, path);
  if (items === undefined) return undefined;
  const ranges: CidrRange[] = [];
  items.forEach((item, i) => {
    const at = indexPath(path, i);
    const text = item.kind === "null" ? r.typeError(item, at, "a CIDR") : r.string(item, at);
    if (text === undefined) return;
    const parsed = parseCidr(text.trim());
    if (parsed.ok) ranges.push(parsed.range);
    else r.report("invalid", at, item.position, `invalid CIDR: ${parsed.problem}`, parsed.hint);
  });
  return ranges;
}
