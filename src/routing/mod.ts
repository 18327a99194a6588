/**
 * Routing: compiles the `routing` config section once into a `Router`, which turns a
 * connection's SNI and identity into a backend exactly as the Go router (Hyrouter) does.
 * Pure: no I/O; randomness, clock and discovered backends are injected.
 *
 * @module
 */

export {
  /** `host:port` of a backend: how drains and decision records name it. */
  backendKey,
  /** Compiles the `routing` section into a {@link Router}; `decide` never throws. */
  compileRouter,
} from "./router.ts";
/** What a decision is made from and what it yields, and what `compileRouter` takes. */
export type {
  Allocate,
  DecideResult,
  Decision,
  Router,
  RouteRequest,
  RouterOptions,
} from "./types.ts";
/** What `Router.explain` returns: the decision and its steps (admin API explain). */
export type { AttemptTrace, ResolvedCandidate, RouteExplanation, RouteTrace } from "./types.ts";
/** Why no backend was chosen; `code` picks the player's Disconnect message. */
export { RoutingError, type RoutingErrorCode } from "./routing_error.ts";
