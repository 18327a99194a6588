import assert from "node:assert/strict";
import { ConfigErrors, parseConfig } from "../../src/config/mod.ts";

const yaml = (...lines: string[]) => lines.join("\n") + "\n";
const names = (text: string) => parseConfig(text, "c.yaml").plugins.map((p) => p.name);

Deno.test("plugins load with their defaults", () => {
  const [grpc, wasm] = parseConfig(
    yaml(
      "plugins:",
      "  - { name: g, type: GRPC, grpc: { address: 127.0.0.1:7777 } }",
      "  - { name: w, type: wasm, stage: mutate, wasm: { path: p.wasm } }",
    ),
    "c.yaml",
  ).plugins;
  assert.deepEqual(grpc, {
    name: "g",
    type: "grpc",
    stage: "route",
    before: [],
    after: [],
    timeoutMs: 1000,
    failurePolicy: "continue",
    grpc: { address: "127.0.0.1:7777" },
  });
  assert.deepEqual(wasm, {
    name: "w",
    type: "wasm",
    stage: "mutate",
    before: [],
    after: [],
    timeoutMs: 1000,
    failurePolicy: "continue",
    wasm: { path: "p.wasm", sha256: null, config: {}, maxMemoryBytes: 64 * 1024 * 1024 },
  });
});

Deno.test("wasm settings: sha256 lower-cased, config as a JSON value, max_memory sizes", () => {
  const digest = "AB".repeat(32);
  const [w] = parseConfig(
    yaml(
      "plugins:",
      "  - name: w",
      "    type: wasm",
      "    timeout: 250ms",
      "    failure_policy: deny",
      "    wasm:",
      "      path: p.wasm",
      `      sha256: ${digest}`,
      "      max_memory: 16MiB",
      "      config: { greeting: hi, limit: 3, on: true, list: [1, '2', null] }",
    ),
    "c.yaml",
  ).plugins;
  assert(w?.type === "wasm");
  assert.equal(w.timeoutMs, 250);
  assert.equal(w.failurePolicy, "deny");
  assert.equal(w.wasm.sha256, "ab".repeat(32));
  assert.equal(w.wasm.maxMemoryBytes, 16 * 1024 * 1024);
  assert.deepEqual(w.wasm.config, { greeting: "hi", limit: 3, on: true, list: [1, "2", null] });
});

Deno.test("order: stage first, then before/after, then config order", () => {
  const g = (name: string, extra = "") =>
    `  - { name: ${name}, type: grpc, grpc: { address: 127.0.0.1:1 }${extra} }`;
  assert.deepEqual(
    names(yaml(
      "plugins:",
      g("m1", ", stage: mutate"),
      g("r1"),
      g("r2", ", before: [r1]"),
      g("d1", ", stage: deny"),
      g("r3", ", after: [m1]"), // m1 is in another stage: ignored
    )),
    ["d1", "r2", "r1", "r3", "m1"],
  );
});

Deno.test("edges to plugins of other stages are dropped from the typed value", () => {
  const [r1] = parseConfig(
    yaml(
      "plugins:",
      "  - { name: r1, type: grpc, grpc: { address: 127.0.0.1:1 }, after: [m1] }",
      "  - { name: m1, type: grpc, stage: mutate, grpc: { address: 127.0.0.1:1 } }",
    ),
    "c.yaml",
  ).plugins;
  assert.deepEqual(r1?.after, []);
});

Deno.test("a cycle names the stage and its plugins", () => {
  const text = yaml(
    "plugins:",
    "  - { name: a, type: grpc, stage: deny, grpc: { address: 127.0.0.1:1 }, after: [b] }",
    "  - { name: b, type: grpc, stage: deny, grpc: { address: 127.0.0.1:1 }, after: [a] }",
  );
  assert.throws(() => parseConfig(text, "c.yaml"), (e: unknown) => {
    assert(e instanceof ConfigErrors);
    assert.match(e.message, /cycle in stage "deny": a, b/);
    return true;
  });
});
