/**
 * The no-isolation baseline: the original module instantiated on the calling thread, no
 * rewriting, no worker. Plugin code then blocks the caller and cannot be stopped — which is
 * why the router never uses this; the benchmark measures the host's overhead against it.
 */

import { PluginInstance } from "./instance.ts";

/** A module instance called directly. */
export interface UnisolatedPlugin {
  /** Runs one request; throws on any plugin failure. */
  call(request: Uint8Array): Uint8Array;
}

/**
 * Instantiates a module here (start, `_initialize`, `init(config)` included): raw bytes as
 * they are, or a compiled module such as `prepareModule`'s instrumented one.
 */
export async function instantiateUnisolated(
  source: Uint8Array | WebAssembly.Module,
  config: unknown = {},
): Promise<UnisolatedPlugin> {
  const module = source instanceof WebAssembly.Module
    ? source
    : await WebAssembly.compile(source as Uint8Array<ArrayBuffer>);
  let instance = create(module, config);
  return {
    call(request) {
      if (!instance.alive) instance = create(module, config);
      return instance.call(request, Infinity);
    },
  };
}

function create(module: WebAssembly.Module, config: unknown): PluginInstance {
  return PluginInstance.create(module, {
    config: new TextEncoder().encode(JSON.stringify(config)),
    log: () => {},
    deadline: Infinity,
  });
}
