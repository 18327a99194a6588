/** What the conformance runner needs of each transport's scripted plugin. */
import type { PluginTransport } from "../../../src/plugins/mod.ts";

/** One scripted plugin, running, behind a real transport. */
export interface Harness {
  /** The transport under test (its name is `PLUGIN`). */
  readonly transport: PluginTransport;
  /**
   * Takes the plugin away — stops the server, kills the process — and resolves once that has
   * happened (for a supervised child: once the transport has logged its exit), so a call made
   * next meets a plugin that is gone.
   */
  stop(): Promise<void>;
  /**
   * Brings it back (starts the server again on the same port; a supervised child is restarted
   * by its transport) and resolves once the plugin side is up. The transport may still need its
   * own back-off to pass before a call reaches it.
   */
  restart(): Promise<void>;
  /** Closes the transport and whatever the harness started. */
  close(): Promise<void>;
}

/** A transport under test: how to start its scripted plugin, and what it cannot express. */
export interface TransportUnderTest {
  /** Shown in the test names, e.g. `grpc`. */
  readonly name: string;
  /** Starts the scripted plugin (built from the table's `ANSWERS`) behind the transport. */
  start(): Promise<Harness>;
  /** Rows (by tag) this transport cannot express, and why; the runner shows them as ignored. */
  readonly notApplicable?: Readonly<Record<string, string>>;
  /**
   * Whether the transport runs the plugin's process and counts its restarts (`restarts`, the
   * `gatehouse_plugin_restarts_total` series); else `restarts` must be absent.
   */
  readonly countsRestarts: boolean;
}
