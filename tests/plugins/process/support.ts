/**
 * Runs tests/fixtures/process/fake_plugin.ts as a `module` process plugin. The test run's own
 * `--allow-net` cannot name a socket path made only now (Deno grants a Unix socket per exact
 * path), so hook connections go through tests/support/unix_relay.ts children started with exactly
 * that grant, plugged in as the pool's connector; everything else is the real transport.
 */
import { Logger } from "../../../src/observability/mod.ts";
import {
  type BackoffOptions,
  type HookConn,
  type HookConnector,
  loadProcessPlugin,
  type ProcessTransport,
} from "../../../src/plugins/process/mod.ts";
import type { ProcessPluginConfig } from "../../../src/config/mod.ts";
import { Lines } from "../../support/child_lines.ts";
import { spawnRelay } from "../../support/process_driver.ts";

/** The scripted plugin. */
export const FAKE_PLUGIN = new URL("../../fixtures/process/fake_plugin.ts", import.meta.url)
  .pathname;

/** Relay children, one per hook connection; all killed and reaped by {@link closeAll}. */
export class Relays {
  readonly #children = new Set<Deno.ChildProcess>();
  /** Connections opened so far. */
  opened = 0;
  /** Writes made on them so far (each a `write` of the pool). */
  writes = 0;

  /** The pool's connector. */
  readonly connect: HookConnector = (path) => {
    const child = spawnRelay(path, "null");
    this.#children.add(child);
    this.opened++;
    return Promise.resolve(new RelayConn(child, () => this.writes++));
  };

  /** Kills every relay still running and waits for them. */
  async closeAll(): Promise<void> {
    for (const child of this.#children) {
      try {
        child.kill("SIGKILL");
      } catch {
        // exited
      }
    }
    await Promise.all([...this.#children].map((c) => c.status));
  }
}

/** A hook connection over a relay child's stdin and stdout. */
class RelayConn implements HookConn {
  readonly #child: Deno.ChildProcess;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #onWrite: () => void;
  #left: Uint8Array | null = null;

  constructor(child: Deno.ChildProcess, onWrite: () => void) {
    this.#child = child;
    this.#onWrite = onWrite;
    this.#reader = child.stdout.getReader();
    this.#writer = child.stdin.getWriter();
  }

  async read(p: Uint8Array): Promise<number | null> {
    if (!this.#left) {
      const { value, done } = await this.#reader.read();
      if (done) return null;
      this.#left = value;
    }
    const n = Math.min(p.length, this.#left.length);
    p.set(this.#left.subarray(0, n));
    this.#left = n < this.#left.length ? this.#left.subarray(n) : null;
    return n;
  }

  async write(p: Uint8Array): Promise<number> {
    this.#onWrite();
    await this.#writer.write(p.slice());
    return p.length;
  }

  close(): void {
    this.#reader.cancel().catch(() => {});
    this.#writer.abort().catch(() => {});
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // exited
    }
  }
}

/** Settings of one fake plugin run. */
export interface FakeOptions {
  /** The plugin's name (default `guard`). */
  readonly name?: string;
  readonly mode?: string;
  /** `set_targets` params the plugin pushes once ready. */
  readonly targets?: unknown;
  /** Counts of on_disconnect frames at which the plugin pushes a `disconnects=N` log line. */
  readonly reportAt?: readonly number[];
  readonly timeoutMs?: number;
  readonly readyTimeoutMs?: number;
  readonly poolSize?: number;
  readonly backoff?: BackoffOptions;
  readonly config?: unknown;
  /** Runs the fixture as a `command` plugin with this argv (given the socket path). */
  readonly command?: (socket: string) => string[];
}

/** A loaded fake plugin, its log lines and its relays. */
export interface Fake {
  readonly plugin: ProcessTransport;
  readonly log: Lines;
  readonly relays: Relays;
  /** Closes the plugin, reaps the relays, removes the socket folder. */
  close(): Promise<void>;
}

/** A logger whose JSON lines land in `log`. */
export function capturingLogger(log: Lines): Logger {
  return new Logger({
    level: "debug",
    format: "json",
    sink: { write: (line) => log.push(line), now: () => new Date() },
  });
}

/** The `process` section for the fake plugin in a fresh folder. */
export async function fakeProcessConfig(
  options: FakeOptions = {},
): Promise<ProcessPluginConfig["process"]> {
  const root = await Deno.makeTempDir({ prefix: "gatehouse_process_" });
  const socketPath = `${root}/guard/plugin.sock`;
  const env: Record<string, string> = { FAKE_MODE: options.mode ?? "normal" };
  if (options.targets !== undefined) env.FAKE_TARGETS = JSON.stringify(options.targets);
  if (options.reportAt) env.FAKE_REPORT_AT = options.reportAt.join(",");
  return {
    command: options.command?.(socketPath) ?? null,
    module: options.command ? null : FAKE_PLUGIN,
    permissions: options.command
      ? { net: [], read: [], env: [] }
      : { net: [], read: [], env: ["FAKE_MODE", "FAKE_TARGETS", "FAKE_REPORT_AT"] },
    env,
    config: options.config ?? {},
    poolSize: options.poolSize ?? 2,
    readyTimeoutMs: options.readyTimeoutMs ?? 10_000,
    socketDir: `${root}/guard`,
    socketPath,
    workDir: root,
  };
}

/** Loads the fake plugin (as `guard` unless named); rejects as `loadProcessPlugin` does (then cleans up). */
export async function loadFake(options: FakeOptions = {}): Promise<Fake> {
  const log = new Lines();
  const relays = new Relays();
  const process = await fakeProcessConfig(options);
  const root = process.socketDir.replace(/\/guard$/, "");
  const cleanup = async () => {
    await relays.closeAll();
    await Deno.remove(root, { recursive: true });
  };
  try {
    const plugin = await loadProcessPlugin({
      name: options.name ?? "guard",
      process,
      timeoutMs: options.timeoutMs ?? 5_000,
      logger: capturingLogger(log),
      connect: relays.connect,
      ...(options.backoff ? { backoff: options.backoff } : {}),
    });
    return {
      plugin,
      log,
      relays,
      close: async () => {
        await plugin.close();
        await cleanup();
      },
    };
  } catch (err) {
    await cleanup();
    throw Object.assign(err as Error, { log });
  }
}
