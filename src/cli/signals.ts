/** A signal that asks the router to stop. */
export type StopSignal = "SIGINT" | "SIGTERM";

/** Why the router stops: a stop signal, or the launcher that started it is gone. */
export type StopReason = StopSignal | "launcher_gone";

const STOP_SIGNALS: readonly StopSignal[] = ["SIGINT", "SIGTERM"];

/** Exit code after a second stop signal: 128 + the signal's number, as shells report it. */
export const FORCED_EXIT_CODE: Readonly<Record<StopSignal, number>> = {
  SIGINT: 130,
  SIGTERM: 143,
};

/** What `listenForSignals` calls. */
export interface SignalHandlers {
  /** SIGHUP: reload the config. */
  readonly onHangup: () => void;
  /** A stop signal arrived while already stopping; the process exits with `code` right after. */
  readonly onForcedExit: (signal: StopSignal, code: number) => void;
  /** Defaults to `Deno.exit`. */
  readonly exit?: (code: number) => void;
  /**
   * A stream the launcher holds open (the router's stdin under `start`): its end means the
   * launcher died — even by SIGKILL, which it cannot forward — and stops the router like SIGTERM.
   */
  readonly lifeline?: ReadableStream<Uint8Array> | null;
}

/** The signal listeners of a running `start`. */
export interface SignalListeners {
  /** Resolves with the first SIGINT/SIGTERM, or when the lifeline ends. */
  readonly stop: Promise<StopReason>;
  /** Removes every listener (the process can then exit). */
  dispose(): void;
}

/**
 * SIGHUP → `onHangup`; the first SIGINT/SIGTERM resolves `stop` (graceful shutdown), a second
 * one exits at once with {@link FORCED_EXIT_CODE}. Listeners stay until `dispose`.
 */
export function listenForSignals(handlers: SignalHandlers): SignalListeners {
  const stop = Promise.withResolvers<StopReason>();
  const exit = handlers.exit ?? ((code: number) => Deno.exit(code));
  let stopping = false;
  let disposed = false;
  const removers: (() => void)[] = [];
  const on = (signal: Deno.Signal, listener: () => void) => {
    Deno.addSignalListener(signal, listener);
    removers.push(() => Deno.removeSignalListener(signal, listener));
  };
  for (const signal of STOP_SIGNALS) {
    on(signal, () => {
      if (!stopping) {
        stopping = true;
        stop.resolve(signal);
        return;
      }
      handlers.onForcedExit(signal, FORCED_EXIT_CODE[signal]);
      exit(FORCED_EXIT_CODE[signal]);
    });
  }
  // SIGHUP does not exist on Windows; there, reload follows file changes alone.
  if (Deno.build.os !== "windows") on("SIGHUP", handlers.onHangup);
  if (handlers.lifeline) {
    const reader = handlers.lifeline.getReader();
    removers.push(() => void reader.cancel().catch(() => {}));
    void drain(reader).then(() => {
      if (stopping || disposed) return;
      stopping = true;
      stop.resolve("launcher_gone");
    });
  }
  return {
    stop: stop.promise,
    dispose: () => {
      disposed = true;
      removers.splice(0).forEach((remove) => remove());
    },
  };
}

// Reads (and drops) whatever arrives until the stream ends, fails or is cancelled.
async function drain(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
  try {
    while (!(await reader.read()).done) {
      // The launcher never writes; anything read is ignored.
    }
  } catch {
    // A broken pipe is the launcher gone too.
  }
}
