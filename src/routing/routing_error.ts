/**
 * Why a decision failed. `no_route`: nothing matched and there is no default pool;
 * `no_backends`: the pool had no candidate left after filters and fallbacks; `discovery`: the
 * discovered backends could not be read; `routing`: anything else (a misconfigured pool).
 */
export type RoutingErrorCode = "no_route" | "no_backends" | "discovery" | "routing";

/** A failed routing decision. The text is for logs; the player sees a configured message. */
export class RoutingError extends Error {
  /** Fixed, so logs and stack traces name the class. */
  override readonly name = "RoutingError";
  /** Why the decision failed; selects the player's Disconnect text. */
  readonly code: RoutingErrorCode;
  /** The route label (`routes[3]`, `default`), or `null` when no route was chosen. */
  readonly route: string | null;

  /** `message` is for logs only; `route` as in {@link RoutingError.route}. */
  constructor(
    code: RoutingErrorCode,
    message: string,
    route: string | null,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.code = code;
    this.route = route;
  }
}
