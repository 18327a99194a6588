/** A command line that cannot be run; the message says what was wrong. Exit code 2. */
export class UsageError extends Error {
  /** Lets callers tell usage errors apart without `instanceof`. */
  readonly code = "usage";
  /** `message` says what is wrong with the command line. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Top-level help text. */
export const USAGE = `Usage: gatehouse <command> [options]

Commands:
  start [--config FILE] [--log-level debug|info|warn|error] [--log-format text|json]
      Run the router (default config: dev/config.dev.yaml) in a child process that holds only
      the permissions the config needs (see README, "Permissions of start").
  serve [same options as start]
      Run the router in this process, with this process's permissions (what start runs).
  check --config FILE
      Load and validate a config; print a one-line summary, or every error found.
  probe HOST:PORT --sni NAME [--username U] [--uuid X] [--language L]
        [--timeout DURATION] [--secret SECRET]
      Act as a Hytale client: send a Connect and print the outcome as one JSON line.
  explain --config FILE --sni NAME --username NAME [--uuid X] [--language L]
        [--client-type N] [--client-ip IP] [--json]
      Explain, without a running router, the decision a player with these facts gets from
      the config: route, candidates and each pass, every plugin's answer, the reply.
  plugin:test PLUGIN.wasm [--request FILE.json] [--config JSON] [--timeout DURATION]
      Run one WASM plugin against a sample ConnectRequest; print its response and the time.
`;

/** Parses `host:port` / `[v6]:port` for the CLI; `what` names the argument in errors. */
export function parseHostPort(text: string, what: string): { hostname: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:\[\]]+)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port < 1 || port > 65535) {
    throw new UsageError(`${what}: expected HOST:PORT (port 1-65535), got ${JSON.stringify(text)}`);
  }
  return { hostname: (m[1] ?? m[2])!, port };
}
