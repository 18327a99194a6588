/** Test helpers: WAT fixtures compiled with wabt, a capturing logger, a plugin loader. */

import wabtInit from "wabt";
import { Logger } from "../../../src/observability/mod.ts";
import { loadWasmPlugin, type WasmPluginOptions } from "../../../src/plugins/wasm/mod.ts";
import type { PluginTransport } from "../../../src/plugins/transport.ts";
import { Lines } from "../../support/child_lines.ts";

const FIXTURES = new URL("../../fixtures/wasm/", import.meta.url);
const wabt = await wabtInit();

/** Compiles `tests/fixtures/wasm/NAME.wat` to a binary. */
export async function fixture(name: string): Promise<Uint8Array> {
  const text = await Deno.readTextFile(new URL(`${name}.wat`, FIXTURES));
  const module = wabt.parseWat(`${name}.wat`, text, { bulk_memory: true });
  try {
    return module.toBinary({}).buffer;
  } finally {
    module.destroy();
  }
}

/**
 * A logger whose lines are kept in `lines`; `log.next(pattern)` awaits the next line matching
 * `pattern` (the router logs what happens in a worker or child as it happens).
 */
export function captureLogger(): { logger: Logger; lines: string[]; log: Lines } {
  const log = new Lines();
  const logger = new Logger({
    level: "debug",
    format: "json",
    sink: { write: (line) => log.push(line), now: () => new Date(0) },
  });
  return { logger, lines: log.seen, log };
}

/** Loads `bytes` as plugin `name` with test-friendly defaults. */
export function load(
  name: string,
  bytes: Uint8Array,
  overrides: Partial<WasmPluginOptions> = {},
): Promise<PluginTransport> {
  return loadWasmPlugin({
    name,
    path: `${name}.wasm`,
    sha256: null,
    config: {},
    maxMemoryBytes: 16 * 1024 * 1024,
    timeoutMs: 200,
    instances: 2,
    logger: captureLogger().logger,
    readFile: () => Promise.resolve(bytes),
    ...overrides,
  });
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Encodes a request string. */
export function req(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Decodes response bytes. */
export function text(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** Whether `cmd --version` runs. */
export function hasTool(cmd: string): boolean {
  try {
    return new Deno.Command(cmd, { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}
