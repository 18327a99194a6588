import {
  type AgonesDiscoveryConfig,
  type KubernetesDiscoveryConfig,
  parseConfig,
} from "../../src/config/mod.ts";

/** The `kubernetes:` settings parsed from a YAML flow mapping, through the real loader. */
export function kubernetesSettings(flow: string): KubernetesDiscoveryConfig {
  const text =
    `discovery:\n  providers:\n    - name: k\n      type: kubernetes\n      kubernetes: ${flow}\n`;
  const provider = parseConfig(text, "test.yaml").discovery.providers[0];
  if (provider?.type !== "kubernetes") throw new Error("expected a kubernetes provider");
  return provider.kubernetes;
}

/** The `agones:` settings parsed from a YAML flow mapping, through the real loader. */
export function agonesSettings(flow: string): AgonesDiscoveryConfig {
  const text =
    `discovery:\n  providers:\n    - name: a\n      type: agones\n      agones: ${flow}\n`;
  const provider = parseConfig(text, "test.yaml").discovery.providers[0];
  if (provider?.type !== "agones") throw new Error("expected an agones provider");
  return provider.agones;
}
