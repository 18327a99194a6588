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
    wasm: {
      path: "p.wasm",
      sha256: null,
      config: {},
      maxMemoryBytes: 64 * 1024 * 1024,
      maxTableElements: 65_536,
      maxModuleBytes: 32 * 1024 * 1024,
      isolation: "worker",
    },
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

Deno.test("wasm sandbox settings: table and module caps, isolation", () => {
  const [w] = parseConfig(
    yaml(
      "plugins:",
      "  - name: w",
      "    type: wasm",
      "    wasm:",
      "      path: p.wasm",
      "      max_table_elements: 1000",
      "      max_module_size: 2MiB",
      "      isolation: process",
    ),
    "c.yaml",
  ).plugins;
  assert(w?.type === "wasm");
  assert.equal(w.wasm.maxTableElements, 1000);
  assert.equal(w.wasm.maxModuleBytes, 2 * 1024 * 1024);
  assert.equal(w.wasm.isolation, "process");
});

Deno.test("wasm sandbox settings: bad values name the key with line:col", () => {
  const text = yaml(
    "plugins:",
    "  - name: w",
    "    type: wasm",
    "    wasm:",
    "      path: p.wasm",
    "      max_table_elements: -1",
    "      max_module_size: 2TiB",
    "      isolation: thread",
    "      max_memory: 8GiB",
  );
  assert.throws(() => parseConfig(text, "c.yaml"), (e: unknown) => {
    assert(e instanceof ConfigErrors);
    assert.match(
      e.message,
      /c\.yaml:6:27 plugins\[0\]\.wasm\.max_table_elements: must be between 0/,
    );
    assert.match(e.message, /c\.yaml:7:24 plugins\[0\]\.wasm\.max_module_size: expected a size/);
    assert.match(
      e.message,
      /c\.yaml:8:18 plugins\[0\]\.wasm\.isolation: unknown isolation "thread"/,
    );
    assert.match(
      e.message,
      /c\.yaml:9:19 plugins\[0\]\.wasm\.max_memory: must be between 64KiB and 4GiB, got "8GiB"/,
    );
    return true;
  });
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
