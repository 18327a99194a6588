/** A signal that asks the router to stop. */
export type StopSignal = "SIGINT" | "SIGTERM";

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
}

/** The signal listeners of a running `start`. */
export interface SignalListeners {
  /** Resolves with the first SIGINT/SIGTERM. */
  readonly stop: Promise<StopSignal>;
  /** Removes every listener (the process can then exit). */
  dispose(): void;
}

/**
 * SIGHUP → `onHangup`; the first SIGINT/SIGTERM resolves `stop` (graceful shutdown), a second
 * one exits at once with {@link FORCED_EXIT_CODE}. Listeners stay until `dispose`.
 */
export function listenForSignals(handlers: SignalHandlers): SignalListeners {
  const stop = Promise.withResolvers<StopSignal>();
  const exit = handlers.exit ?? ((code: number) => Deno.exit(code));
  let stopping = false;
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
  return {
    stop: stop.promise,
    dispose: () => removers.splice(0).forEach((remove) => remove()),
  };
}
