/** A resource collection's path in one namespace, under an API group prefix. */
export function namespacedPath(prefix: string, resource: string, namespace: string): string {
  return `${prefix}/namespaces/${encodeURIComponent(namespace)}/${resource}`;
}

/**
 * The collection paths for `resource` under an API group prefix: one per namespace, or the
 * cluster-wide collection when no namespace is configured.
 */
export function collectionPaths(
  prefix: string,
  resource: string,
  namespaces: readonly string[],
): string[] {
  if (namespaces.length === 0) return [`${prefix}/${resource}`];
  return namespaces.map((ns) => namespacedPath(prefix, resource, ns));
}
