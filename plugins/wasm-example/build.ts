/**
 * Builds the example plugin:
 * `deno run --allow-read --allow-write --allow-env plugins/wasm-example/build.ts [--if-missing] [OUT]`
 * compiles assembly/index.ts (using the authoring kit in plugins/assemblyscript/) with the
 * pinned AssemblyScript compiler into plugins/wasm-example/plugin.wasm, or OUT.
 * `--if-missing` does nothing when the output already exists (used by `deno task run:plugins`).
 */

import asc from "assemblyscript/asc";

const here = new URL(".", import.meta.url).pathname;
const ifMissing = Deno.args.includes("--if-missing");
const out = Deno.args.find((a) => a !== "--if-missing") ?? `${here}plugin.wasm`;
if (ifMissing && await Deno.stat(out).then(() => true, () => false)) {
  console.log(`${out} exists; not rebuilt`);
  Deno.exit(0);
}
// `--use abort=…` below names a file relative to the repository root.
Deno.chdir(new URL("../..", import.meta.url));

const { error, stderr } = await asc.main([
  `${here}assembly/index.ts`,
  "--outFile",
  out,
  "--optimizeLevel",
  "3",
  "--shrinkLevel",
  "0",
  // Garbage is collected once per call by `serve` (see plugins/assemblyscript/abi.ts).
  "--runtime",
  "minimal",
  // WASI-style reactor: the start function becomes the `_initialize` export.
  "--exportStart",
  "_initialize",
  // Aborts log through gatehouse.log and trap, instead of importing env.abort.
  "--use",
  "abort=plugins/assemblyscript/abi/pluginAbort",
  "--noAssert",
], { stderr: undefined });
if (error) {
  console.error(stderr?.toString() ?? "");
  console.error(`build failed: ${error.message}`);
  Deno.exit(1);
}
console.log(`wrote ${out}`);
