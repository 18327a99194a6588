/**
 * gRPC plugin transport: unary `/hyrouter.Plugin/OnConnect` with JSON messages and content-type
 * `application/grpc+json`, as the Go router's plugins expect, over a small HTTP/2 cleartext
 * client of this project's own (`Deno.connect` with TCP_NODELAY; request headers encoded once
 * without a dynamic table, responses decoded with `npm:hpack.js`).
 * Why not grpc-js, `node:http2` or `fetch`: see docs/plugins.md §6.3 "Why our own client".
 *
 * @module
 */
import type { Logger } from "../../observability/mod.ts";
import { PluginError, type PluginTransport } from "../transport.ts";
import { type CallTarget, unaryCall } from "./call.ts";
import {
  type BackoffOptions,
  Channel,
  type Connector,
  connectTcp,
  DEFAULT_BACKOFF,
} from "./channel.ts";
import { Watchdog } from "../watchdog.ts";
import { RequestHeaders } from "./grpc_wire.ts";

export type { BackoffOptions, Connector } from "./channel.ts";
export type { ByteConn } from "./connection.ts";

/** The method every gRPC plugin serves. */
const ON_CONNECT_PATH = "/hyrouter.Plugin/OnConnect";
/** The content-type the Go router's JSON codec sends and its Go plugins require. */
const GRPC_JSON_CONTENT_TYPE = "application/grpc+json";

/** Options of {@linkcode createGrpcPlugin}. */
export interface GrpcPluginOptions {
  /** The plugin's configured name (errors and log lines carry it). */
  readonly name: string;
  /** `host:port` of the plugin server (`[v6]:port` for IPv6 literals). */
  readonly address: string;
  /** The plugin's configured timeout; bounds a connection attempt too. */
  readonly timeoutMs: number;
  /** Base logger; the transport adds `plugin=<name>`. */
  readonly logger: Logger;
  /** Opens the TCP stream (default: `Deno.connect` with TCP_NODELAY). */
  readonly connect?: Connector;
  /** Monotonic milliseconds (default: `performance.now`). */
  readonly now?: () => number;
  /** Uniform random in [0, 1) for backoff jitter (default: `Math.random`). */
  readonly random?: () => number;
  /** Reconnect backoff (default: 100 ms, ×1.6 per failure, at most 5 s, ±20 %). */
  readonly backoff?: BackoffOptions;
}

/**
 * Creates the transport of one gRPC plugin. Nothing is dialled until the first call; one
 * long-lived connection is kept and replaced when the server goes away or dies. Throws a
 * `PluginError` of kind `load` when the address is not `host:port`.
 */
export function createGrpcPlugin(options: GrpcPluginOptions): PluginTransport {
  const { hostname, port } = parseAddress(options.name, options.address);
  const now = options.now ?? (() => performance.now());
  const logger = options.logger.with({ plugin: options.name });
  const channel = new Channel({
    hostname,
    port,
    logger,
    connect: options.connect ?? connectTcp,
    connectTimeoutMs: Math.max(options.timeoutMs, 1_000),
    backoff: options.backoff ?? DEFAULT_BACKOFF,
    now,
    random: options.random ?? Math.random,
  });
  const target: CallTarget = {
    plugin: options.name,
    channel,
    headers: new RequestHeaders(options.address, ON_CONNECT_PATH, GRPC_JSON_CONTENT_TYPE),
    watchdog: new Watchdog(),
    now,
  };
  let closed = false;
  return {
    name: options.name,
    // The server is unreachable: calls fail fast during the reconnect back-off.
    get circuitOpen(): boolean {
      return channel.failing;
    },
    call(request: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
      if (closed) {
        return Promise.reject(new PluginError(options.name, "unavailable", "plugin is closed"));
      }
      return unaryCall(target, request, timeoutMs);
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await channel.close(); // ends every call in flight, so no deadline is still needed
      target.watchdog.close();
    },
  };
}

function parseAddress(name: string, address: string): { hostname: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:/[\]]+)):(\d{1,5})$/.exec(address);
  const port = m ? Number(m[3]) : 0;
  if (!m || port < 1 || port > 65_535) {
    throw new PluginError(name, "load", `grpc.address "${address}" is not host:port`);
  }
  return { hostname: m[1] ?? m[2] ?? "", port };
}
