/**
 * Routing: compiles the `routing` config section once into a `Router`, which turns a
 * connection's SNI and identity into a backend exactly as the Go router (Hyrouter) does.
 * Pure: no I/O; randomness, clock and discovered backends are injected.
 *
 * @module
 */

export { compileRouter } from "./router.ts";
export type {
  Allocate,
  DecideResult,
  Decision,
  Router,
  RouteRequest,
  RouterOptions,
} from "./types.ts";
export { RoutingError, type RoutingErrorCode } from "./routing_error.ts";
export type { PickContext, Strategy } from "./strategies/strategy.ts";
export { createStrategy, type StrategySettings } from "./strategies/create.ts";
