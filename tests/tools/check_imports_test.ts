import assert from "node:assert/strict";
import {
  findCycles,
  type ImportEdge,
  importProblems,
  importSpecifiers,
  resolveSpecifier,
} from "../../tools/check_imports.ts";

function graph(edges: Record<string, string[]>): Map<string, Set<string>> {
  return new Map(Object.entries(edges).map(([from, to]) => [from, new Set(to)]));
}

Deno.test("findCycles: one cycle, reported as a closed path from its first node", () => {
  const g = graph({ c: ["a", "d"], a: ["b"], b: ["c"], d: [] });
  assert.deepEqual(findCycles(g), [["a", "b", "c", "a"]]);
});

Deno.test("findCycles: none in a DAG; a self loop is not a cycle", () => {
  assert.deepEqual(findCycles(graph({ a: ["b", "c"], b: ["c"], c: ["c"] })), []);
  assert.deepEqual(findCycles(graph({})), []);
});

Deno.test("findCycles: one shortest cycle per tangle, each tangle once", () => {
  // a <-> b, and c -> d -> e -> c with the shortcut d -> c.
  const g = graph({ a: ["b"], b: ["a", "c"], c: ["d"], d: ["e", "c"], e: ["c"] });
  const cycles = findCycles(g).sort((x, y) => x[0]! < y[0]! ? -1 : 1);
  assert.deepEqual(cycles, [["a", "b", "a"], ["c", "d", "c"]]);
});

Deno.test("importSpecifiers: static, re-export, type-only, side-effect and dynamic imports", () => {
  const source = `
import { a } from "./a.ts";
import type { B } from "../b/mod.ts";
import * as c from './c.ts';
import "./side.ts";
export { d } from "./d.ts";
export type {
  /** A comment; with a semicolon and "quotes". */
  E,
} from "./e.ts";
export * from "./f.ts";
const g = await import("./g.ts");
const url = import.meta.url;
export const h = 1;
export function from(x: string) { return x; }
`;
  assert.deepEqual(importSpecifiers(source), [
    "./a.ts",
    "../b/mod.ts",
    "./c.ts",
    "./side.ts",
    "./d.ts",
    "./e.ts",
    "./f.ts",
    "./g.ts",
  ]);
});

Deno.test("importSpecifiers: imports inside comments, strings, templates and regexes are not", () => {
  const source = `
// import { x } from "./comment.ts";
/* export { y } from "./block.ts"; */
const s = 'import { z } from "./string.ts"';
const t = \`import { w } from "./template.ts" \${"import('./nested.ts')"}\`;
const r = /import "\\.\\/regex.ts"/;
import { real } from "./real.ts";
`;
  assert.deepEqual(importSpecifiers(source), ["./real.ts"]);
});

Deno.test("resolveSpecifier: relative to the importing file; bare specifiers are not files", () => {
  assert.equal(resolveSpecifier("plugins/wasm/host.ts", "../transport.ts"), "plugins/transport.ts");
  assert.equal(resolveSpecifier("cli/mod.ts", "../config/mod.ts"), "config/mod.ts");
  assert.equal(resolveSpecifier("cli/mod.ts", "./check.ts"), "cli/check.ts");
  assert.equal(resolveSpecifier("cli/mod.ts", "npm:yaml"), null);
  assert.equal(resolveSpecifier("cli/mod.ts", "node:util"), null);
});

Deno.test("importProblems: a folder cycle names the imports that close it", () => {
  const edges: ImportEdge[] = [
    { from: "config/routing.ts", to: "routing/mod.ts" },
    { from: "routing/router.ts", to: "config/mod.ts" },
    { from: "server/server.ts", to: "routing/mod.ts" },
  ];
  assert.deepEqual(importProblems(edges, []), [
    "folder cycle config -> routing -> config\n" +
    "  config -> routing: config/routing.ts imports routing/mod.ts\n" +
    "  routing -> config: routing/router.ts imports config/mod.ts",
  ]);
});

Deno.test("importProblems: only mod.ts files are entries; sub-folders are part of their folder", () => {
  const edges: ImportEdge[] = [
    { from: "cli/mod.ts", to: "plugins/mod.ts" },
    { from: "cli/mod.ts", to: "plugins/wasm/mod.ts" },
    { from: "plugins/wasm/host.ts", to: "plugins/transport.ts" },
    { from: "plugins/factory.ts", to: "plugins/wasm/load.ts" },
    { from: "cli/mod.ts", to: "plugins/wasm/process_child.ts" },
  ];
  assert.deepEqual(importProblems(edges, []), [
    "cli/mod.ts imports plugins/wasm/process_child.ts: outside plugins/mod.ts, import only a mod.ts",
  ]);
});

Deno.test("importProblems: an allowed exception passes; a stale one is reported", () => {
  const edges: ImportEdge[] = [{ from: "plugins/wasm/child.ts", to: "observability/logger.ts" }];
  const allowed: ImportEdge[] = [
    { from: "plugins/wasm/child.ts", to: "observability/logger.ts" },
    { from: "cli/mod.ts", to: "server/server.ts" },
  ];
  assert.deepEqual(importProblems(edges, allowed), [
    "stale ALLOWED entry: cli/mod.ts no longer imports server/server.ts",
  ]);
});
