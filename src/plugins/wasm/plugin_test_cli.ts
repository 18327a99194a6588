/**
 * `plugin:test PLUGIN.wasm [--request FILE.json] [--config JSON] [--timeout MS]
 * [--max-memory BYTES]`: loads one module through the full host (same checks, isolation and
 * limits as the router), sends it one ConnectRequest and prints the response and the time taken.
 */

import { parseArgs } from "node:util";
import { Logger } from "../../observability/mod.ts";
import { loadWasmPlugin } from "./load.ts";

/** What `runPluginTest` reads and writes; injected by tests. */
export interface PluginTestIo {
  /** Writes one line of output (default `console.log`). */
  readonly print: (line: string) => void;
  /** Reads the `--request` file (default `Deno.readTextFile`). */
  readonly readTextFile: (path: string) => Promise<string>;
  /** Receives the plugin's log output (default: debug level, text, stderr). */
  readonly logger: Logger;
}

/** A ConnectRequest in the shape the Go router sends (docs/plugins.md §1 "Data model"). */
export const SAMPLE_REQUEST = {
  event: {
    sni: "play.example.com",
    uuid: "d3e6ef90-e113-49a7-a845-1c11f24fe166",
    username: "Krymo",
    language: "de-DE",
  },
  strategy: "round_robin",
  candidates: [{ host: "a.internal", port: 5520, weight: 1, meta: null }],
  selected_index: 0,
  backend: { host: "a.internal", port: 5520, weight: 1, meta: null },
};

const USAGE = "usage: plugin:test PLUGIN.wasm [--request FILE.json] [--config JSON] " +
  "[--timeout MS] [--max-memory BYTES]";

/** Runs the command; resolves with the process exit code (0 ok, 1 plugin error, 2 usage). */
export async function runPluginTest(args: string[], io?: Partial<PluginTestIo>): Promise<number> {
  const print = io?.print ?? ((line: string) => console.log(line));
  const readText = io?.readTextFile ?? Deno.readTextFile;
  const logger = io?.logger ?? new Logger({ level: "debug", format: "text" });
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        request: { type: "string" },
        config: { type: "string" },
        timeout: { type: "string", default: "1000" },
        "max-memory": { type: "string", default: String(64 * 1024 * 1024) },
      },
    });
  } catch (e) {
    print(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const path = parsed.positionals[0];
  const timeoutMs = Number(parsed.values.timeout);
  const maxMemoryBytes = Number(parsed.values["max-memory"]);
  if (
    path === undefined || parsed.positionals.length > 1 || !(timeoutMs > 0) || !(maxMemoryBytes > 0)
  ) {
    print(USAGE);
    return 2;
  }
  try {
    const request = parsed.values.request === undefined
      ? JSON.stringify(SAMPLE_REQUEST)
      : await readText(parsed.values.request);
    const config = parsed.values.config === undefined ? {} : JSON.parse(parsed.values.config);
    return await runOnce(path, request, config, { timeoutMs, maxMemoryBytes, logger, print });
  } catch (e) {
    print(`error: ${(e as Error).message}`);
    return 1;
  }
}

async function runOnce(
  path: string,
  request: string,
  config: unknown,
  o: { timeoutMs: number; maxMemoryBytes: number; logger: Logger; print: (s: string) => void },
): Promise<number> {
  const loadStart = performance.now();
  const plugin = await loadWasmPlugin({
    name: path,
    path,
    sha256: null,
    config,
    maxMemoryBytes: o.maxMemoryBytes,
    timeoutMs: o.timeoutMs,
    instances: 1,
    logger: o.logger,
  });
  const loadMs = performance.now() - loadStart;
  try {
    const callStart = performance.now();
    const response = await plugin.call(new TextEncoder().encode(request), o.timeoutMs);
    const callMs = performance.now() - callStart;
    const text = new TextDecoder().decode(response);
    let shown = text;
    try {
      shown = JSON.stringify(JSON.parse(text), null, 2);
    } catch {
      o.print("warning: the response is not valid JSON");
    }
    o.print(shown);
    o.print(`load: ${loadMs.toFixed(1)} ms, call: ${callMs.toFixed(3)} ms`);
    return 0;
  } finally {
    await plugin.close();
  }
}
