/**
 * `deno task bundle`: the one-file build, `dist/gatehouse.js`.
 *
 * `deno bundle --platform=deno` inlines every module and npm package, but leaves each worker
 * script as `new URL("./NAME.ts", import.meta.url)`, which would resolve beside the bundle. So
 * each worker ({@link WORKERS}) is bundled on its own first and its code replaces that URL as a
 * `blob:` URL in the main bundle (a blob worker also needs no read permission). The build fails
 * unless each such reference was replaced exactly once.
 *
 *   deno task bundle [--output dist/gatehouse.js]
 *
 * @module
 */
import { parseArgs } from "node:util";

const ROOT = new URL("..", import.meta.url).pathname;
/** Worker scripts started with `new URL("./NAME.ts", import.meta.url)`, and their sources. */
const WORKERS = [
  { ref: 'new URL("./worker.ts", import.meta.url)', source: "src/plugins/wasm/worker.ts" },
  {
    ref: 'new URL("./prepare_worker.ts", import.meta.url)',
    source: "src/plugins/wasm/prepare_worker.ts",
  },
] as const;

async function denoBundle(entry: string, output: string): Promise<void> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--platform=deno", "--output", output, entry],
    cwd: ROOT,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`deno bundle ${entry} failed`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: { output: { type: "string", default: "dist/gatehouse.js" } },
  });
  const output = values.output;
  await Deno.mkdir(`${ROOT}${output}`.replace(/\/[^/]*$/, ""), { recursive: true });
  await denoBundle("src/cli/main.ts", output);
  let main = await Deno.readTextFile(`${ROOT}${output}`);
  const size = main.length;
  for (const { ref, source } of WORKERS) {
    const blob = await inlined(ref, source, main, output);
    main = main.replace(ref, () => blob); // a function: `$` in the code is not a pattern
  }
  await Deno.writeTextFile(`${ROOT}${output}`, main);
  console.log(`${output}: ${(size / 1024).toFixed(0)} KiB + ${WORKERS.length} inlined workers`);
}

// The bundled worker `source` as a blob URL expression, to stand for `ref` in `main`.
async function inlined(
  ref: string,
  source: string,
  main: string,
  output: string,
): Promise<string> {
  const found = main.split(ref).length - 1;
  if (found !== 1) throw new Error(`expected one ${ref} in the bundle, found ${found}`);
  const out = `${output}.${source.replace(/^.*\//, "")}.tmp.js`;
  await denoBundle(source, out);
  const code = await Deno.readTextFile(`${ROOT}${out}`);
  await Deno.remove(`${ROOT}${out}`);
  return `URL.createObjectURL(new Blob([${JSON.stringify(code)}], { type: "text/javascript" }))`;
}

if (import.meta.main) await main();
