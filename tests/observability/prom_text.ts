/**
 * Reads Prometheus text exposition into samples, independently of the code under test: each
 * sample keyed `name{a="x",b="y"}` with its labels sorted by name (`name` alone when it has
 * none).
 */
export function parseSamples(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels = [...(m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)]
      .map(([, k, v]) => [k!, v!] as const);
    samples.set(key(m[1]!, Object.fromEntries(labels)), Number(m[3]));
  }
  return samples;
}

/** The key {@link parseSamples} files a sample under. */
export function key(name: string, labels: Record<string, string> = {}): string {
  const pairs = Object.entries(labels).sort(([a], [b]) => a < b ? -1 : 1);
  return pairs.length === 0 ? name : `${name}{${pairs.map(([k, v]) => `${k}="${v}"`).join(",")}}`;
}

/** The value of one sample; throws when it is absent (so a missing series fails the test). */
export function sample(
  samples: Map<string, number>,
  name: string,
  labels: Record<string, string> = {},
): number {
  const value = samples.get(key(name, labels));
  if (value === undefined) throw new Error(`no sample ${key(name, labels)}`);
  return value;
}
