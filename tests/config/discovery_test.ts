import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/mod.ts";
import { lines, summaries } from "./expect_errors.ts";

const full = lines(
  "discovery:",
  "  providers:",
  "    - name: k8s",
  "      type: Kubernetes",
  "      kubernetes:",
  '        kubeconfig: " /etc/kube/config "',
  '        namespaces: ["hytale"]',
  "        resources:",
  "          - kind: pods",
  '            selector: { labels: "app=hytale,region in (eu,us)", annotations: "hyrouter/enabled=true" }',
  "            port: { name: game }",
  "          - kind: EndpointSlice",
  "            service: { name: hytale-backend, namespace: hytale }",
  "            port: { number: 5520 }",
  "        filters:",
  "          require_pod_ready: true",
  '          require_pod_phase: ["Running"]',
  "          require_endpoint_ready: yes",
  "        metadata:",
  '          include_labels: ["region"]',
  '          include_annotations: ["hyrouter/weight"]',
  "    - name: fleet",
  "      type: agones",
  "      agones:",
  "        mode: allocate",
  "        allocate_min_interval: 250ms",
  '        state: ["Ready", "Reserved"]',
  '        selector: { labels: "agones.dev/fleet=hytale" }',
  '        address: { preference: ["ExternalIP", "InternalIP"] }',
  "        port: { name: gameport }",
  "routing:",
  "  default:",
  "    strategy: round_robin",
  "    discovery: { provider: fleet }",
);

Deno.test("discovery: every docs/discovery.md field is read into typed values", () => {
  const config = parseConfig(full, "config.yaml");
  const [k8s, fleet] = config.discovery.providers;
  assert.deepEqual(k8s, {
    name: "k8s",
    insecureHttp: false,
    type: "kubernetes",
    kubernetes: {
      kubeconfig: "/etc/kube/config",
      namespaces: ["hytale"],
      resources: [
        {
          kind: "pods",
          selector: {
            labels: [
              { op: "in", key: "app", values: ["hytale"] },
              { op: "in", key: "region", values: ["eu", "us"] },
            ],
            labelText: "app=hytale,region in (eu,us)",
            annotations: [{ key: "hyrouter/enabled", value: "true" }],
          },
          port: { name: "game", number: 0, containerPort: 0 },
        },
        {
          kind: "endpointslices",
          selector: { labels: [], labelText: "", annotations: [] },
          port: { name: "", number: 5520, containerPort: 0 },
          service: { name: "hytale-backend", namespace: "hytale" },
        },
      ],
      filters: { requirePodReady: true, requirePodPhase: ["Running"], requireEndpointReady: true },
      metadata: { includeLabels: ["region"], includeAnnotations: ["hyrouter/weight"] },
    },
  });
  assert.deepEqual(fleet, {
    name: "fleet",
    insecureHttp: false,
    type: "agones",
    agones: {
      kubeconfig: null,
      namespaces: [],
      mode: "allocate",
      allocateMinIntervalMs: 250,
      states: ["Ready", "Reserved"],
      selector: {
        labels: [{ op: "in", key: "agones.dev/fleet", values: ["hytale"] }],
        labelText: "agones.dev/fleet=hytale",
        annotations: [],
      },
      metadata: { includeLabels: [], includeAnnotations: [] },
      address: { source: "addresses", preference: ["ExternalIP", "InternalIP"] },
      port: { name: "gameport", number: 0, containerPort: 0 },
    },
  });
});

Deno.test("discovery: agones defaults are observe, Ready, status.address, no throttle", () => {
  const text = lines("discovery:", "  providers:", "    - {name: a, type: agones, agones: {}}");
  const [provider] = parseConfig(text, "config.yaml").discovery.providers;
  assert.equal(provider?.type, "agones");
  assert.deepEqual(
    [provider.agones.mode, provider.agones.states, provider.agones.address.source],
    ["observe", ["Ready"], "address"],
  );
  assert.equal(provider.agones.allocateMinIntervalMs, 0);
});

Deno.test("discovery: insecure_http is a provider boolean, false unless set", () => {
  const text = lines(
    "discovery:",
    "  providers:",
    "    - {name: a, type: agones, agones: {}, insecure_http: true}",
    "    - {name: b, type: kubernetes, kubernetes: {}, insecure_http: false}",
    "    - {name: c, type: kubernetes, kubernetes: {}}",
  );
  const providers = parseConfig(text, "config.yaml").discovery.providers;
  assert.deepEqual(providers.map((p) => [p.name, p.insecureHttp]), [
    ["a", true],
    ["b", false],
    ["c", false],
  ]);
});

Deno.test("discovery: no section means no providers", () => {
  assert.deepEqual(parseConfig("listen: ':5520'\n", "config.yaml").discovery, { providers: [] });
});

// Each case: config lines, expected `code path line:col` summaries.
const rejected: ReadonlyArray<readonly [string, string, readonly string[]]> = [
  [
    "a label selector syntax error points at the offending character",
    lines(
      "discovery:",
      "  providers:",
      "    - name: k",
      "      type: kubernetes",
      "      kubernetes:",
      "        resources:",
      "          - kind: pods",
      "            selector:",
      "              labels: app=game region=eu",
    ),
    ["invalid discovery.providers[0].kubernetes.resources[0].selector.labels 9:32"],
  ],
  [
    "inside a quoted selector the column counts the quote",
    lines(
      "discovery:",
      "  providers:",
      "    - name: a",
      "      type: agones",
      '      agones: { selector: { labels: "  app in (eu" } }',
    ),
    ["invalid discovery.providers[0].agones.selector.labels 5:50"],
  ],
  [
    "annotation selectors need key=value",
    lines(
      "discovery:",
      "  providers:",
      "    - name: a",
      "      type: agones",
      "      agones: { selector: { annotations: 'a=b,c' } }",
    ),
    ["invalid discovery.providers[0].agones.selector.annotations 5:47"],
  ],
  [
    "names are required and unique; the type is required",
    lines(
      "discovery:",
      "  providers:",
      "    - {name: a, type: agones, agones: {}}",
      "    - {name: a, type: agones, agones: {}}",
      "    - {name: b}",
      "    - {type: agones, agones: {}}",
    ),
    [
      "invalid discovery.providers[1].name 4:14",
      "required discovery.providers[2].type 5:7",
      "required discovery.providers[3].name 6:7",
    ],
  ],
  [
    "unknown type, kind, mode and address source are named",
    lines(
      "discovery:",
      "  providers:",
      "    - {name: a, type: consul}",
      "    - name: b",
      "      type: kubernetes",
      "      kubernetes: { resources: [ { kind: services } ] }",
      "    - {name: c, type: agones, agones: {mode: observer, address: {source: ip}}}",
    ),
    [
      "invalid discovery.providers[0].type 3:23",
      "invalid discovery.providers[1].kubernetes.resources[0].kind 6:42",
      "invalid discovery.providers[2].agones.mode 7:46",
      "invalid discovery.providers[2].agones.address.source 7:74",
    ],
  ],
  [
    "the settings block of the type is required; the other type's block is a mistake",
    lines(
      "discovery:",
      "  providers:",
      "    - {name: a, type: kubernetes, agones: {}}",
    ),
    [
      "required discovery.providers[0].kubernetes 3:7",
      "invalid discovery.providers[0].agones 3:35",
    ],
  ],
  [
    "pods have no service; endpointslices have no container_port; ports are 0-65535",
    lines(
      "discovery:",
      "  providers:",
      "    - name: k",
      "      type: kubernetes",
      "      kubernetes:",
      "        resources:",
      "          - { kind: pods, service: { name: x }, port: { number: 70000 } }",
      "          - { kind: endpointslices, port: { container_port: 1 } }",
    ),
    [
      "invalid discovery.providers[0].kubernetes.resources[0].service 7:27",
      "invalid discovery.providers[0].kubernetes.resources[0].port.number 7:65",
      "unknown_key discovery.providers[0].kubernetes.resources[1].port.container_port 8:45",
    ],
  ],
  [
    "allocate_min_interval is a Go duration",
    lines(
      "discovery:",
      "  providers:",
      "    - {name: a, type: agones, agones: {allocate_min_interval: 5}}",
    ),
    ["invalid discovery.providers[0].agones.allocate_min_interval 3:63"],
  ],
  [
    "allocate mode: the first state must be one Agones allocates from; no > or < terms",
    lines(
      "discovery:",
      "  providers:",
      "    - name: a",
      "      type: agones",
      "      agones:",
      "        mode: allocate",
      "        state: [Reserved, Ready]",
      '        selector: { labels: "agones.dev/fleet=hytale,tier>2" }',
      "    - {name: b, type: agones, agones: {mode: observe, state: [Reserved], selector: {labels: 'x<3'}}}",
    ),
    [
      "invalid discovery.providers[0].agones.state 7:16",
      "invalid discovery.providers[0].agones.selector.labels 8:19",
    ],
  ],
  [
    "insecure_http must be a boolean",
    lines(
      "discovery:",
      "  providers:",
      '    - {name: a, type: agones, agones: {}, insecure_http: "please"}',
    ),
    ["type discovery.providers[0].insecure_http 3:58"],
  ],
  [
    "insecure_http belongs to the provider, not its settings block",
    lines(
      "discovery:",
      "  providers:",
      "    - {name: a, type: agones, agones: {insecure_http: true}}",
    ),
    ["unknown_key discovery.providers[0].agones.insecure_http 3:40"],
  ],
  [
    "a pool's provider must be configured (with a suggestion)",
    lines(
      "discovery:",
      "  providers:",
      "    - {name: fleet, type: agones, agones: {}}",
      "routing:",
      "  default: { strategy: random, discovery: { provider: flet } }",
    ),
    ["reference routing.default.discovery.provider 5:55"],
  ],
];

for (const [name, text, expected] of rejected) {
  Deno.test(`discovery rejects: ${name}`, () => {
    assert.deepEqual(summaries(text), expected, text);
  });
}
