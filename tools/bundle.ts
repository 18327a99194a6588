/**
 * `deno task bundle`: the one-file build, `dist/gatehouse.js`.
 *
 * `deno bundle --platform=deno` inlines every module and npm package, but leaves the WASM plugin
 * worker as `new URL("./worker.ts", import.meta.url)`, which would resolve beside the bundle. So
 * the worker is bundled on its own first and its code replaces that URL as a `blob:` URL in the
 * main bundle (a blob worker also needs no read permission). The build fails unless exactly one
 * such reference was replaced.
 *
 *   deno task bundle [--output dist/gatehouse.js]
 *
 * @module
 */
import { parseArgs } from "node:util";

const ROOT = new URL("..", import.meta.url).pathname;
const WORKER_REF = 'new URL("./worker.ts", import.meta.url)';

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
  const workerOut = `${output}.worker.tmp.js`;
  await Deno.mkdir(`${ROOT}${output}`.replace(/\/[^/]*$/, ""), { recursive: true });
  await denoBundle("src/plugins/wasm/worker.ts", workerOut);
  await denoBundle("src/cli/main.ts", output);
  const worker = await Deno.readTextFile(`${ROOT}${workerOut}`);
  await Deno.remove(`${ROOT}${workerOut}`);
  const main = await Deno.readTextFile(`${ROOT}${output}`);
  const parts = main.split(WORKER_REF);
  if (parts.length !== 2) {
    throw new Error(`expected one ${WORKER_REF} in the bundle, found ${parts.length - 1}`);
  }
  const blob = `URL.createObjectURL(new Blob([${
    JSON.stringify(worker)
  }], { type: "text/javascript" }))`;
  await Deno.writeTextFile(`${ROOT}${output}`, parts.join(blob));
  console.log(`${output}: ${(main.length / 1024).toFixed(0)} KiB + inlined WASM worker`);
}

if (import.meta.main) await main();
