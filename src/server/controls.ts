/**
 * What the router reads of the operator's runtime switches on every connection: maintenance
 * mode and drained backends. `ConsoleControls` (`src/state/`) is the implementation `start`
 * passes; the server only needs this shape, so it does not depend on where the state is kept.
 */

/** Maintenance mode as one connection sees it. */
export interface MaintenanceGate {
  /** Whether players who are not bypassed are turned away. */
  readonly enabled: boolean;
  /** Whether this player may pass anyway (by username, uuid or client IP). */
  bypassed(facts: {
    readonly username: string;
    readonly uuid: string;
    readonly ip: string | null;
  }): boolean;
  /** The Disconnect text for a client language (docs/configuration.md §6.2 "Message selection"). */
  message(language: string): string;
}

/** The operator's runtime switches; read per connection, so reads must be cheap. */
export interface RuntimeControls {
  /** Maintenance mode now in force. */
  readonly maintenance: MaintenanceGate;
  /** Backends taken out of new decisions, as `host:port`. */
  readonly drained: ReadonlySet<string>;
}

/** No maintenance and no drains: what a server started without controls uses. */
export const NO_CONTROLS: RuntimeControls = {
  maintenance: { enabled: false, bypassed: () => true, message: () => "" },
  drained: new Set(),
};
