import {
  type AgonesDiscoveryConfig,
  type DiscoveryProviderConfig,
  type KubernetesDiscoveryConfig,
  parseConfig,
} from "../../src/config/mod.ts";

/** One provider parsed from a YAML flow mapping of its settings, through the real loader. */
function provider(type: "kubernetes" | "agones", flow: string): DiscoveryProviderConfig {
  const text =
    `discovery:\n  providers:\n    - name: p\n      type: ${type}\n      ${type}: ${flow}\n`;
  const found = parseConfig(text, "test.yaml").discovery.providers[0];
  if (found?.type !== type) throw new Error(`expected a ${type} provider`);
  return found;
}

/** The `kubernetes:` settings parsed from a YAML flow mapping. */
export function kubernetesSettings(flow: string): KubernetesDiscoveryConfig {
  const p = provider("kubernetes", flow);
  if (p.type !== "kubernetes") throw new Error("unreachable");
  return p.kubernetes;
}

/** The `agones:` settings parsed from a YAML flow mapping. */
export function agonesSettings(flow: string): AgonesDiscoveryConfig {
  const p = provider("agones", flow);
  if (p.type !== "agones") throw new Error("unreachable");
  return p.agones;
}
