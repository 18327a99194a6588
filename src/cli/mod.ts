/**
 * The `gatehouse` command line (`usage.ts` has the help text): `start` (the sandboxed router: a
 * launcher running `serve` with exact permissions), `serve` (the router in this process), `check`
 * (validate a config), `probe` (act as a Hytale client), `explain` (a player's decision from a
 * config, offline, sandboxed like `start`), `plugin:test` (run one WASM plugin against a sample
 * request) and `help`; plus the hidden commands with which the bundle runs as a WASM plugin's
 * child process and `explain` runs in its sandbox.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { MAX_TIMER_MS, parseDuration } from "../config/mod.ts";
import { isUuidText } from "../protocol/mod.ts";
import { LOG_FORMATS, LOG_LEVELS } from "../observability/mod.ts";
import { type CommandIO, runCheck } from "./check.ts";
import { EXPLAIN_CHILD, parseExplainArgs, runExplain } from "./explain.ts";
import { isCompiledBinary, LIFELINE_FLAG, runLauncher, runSandboxed } from "./launch.ts";
import { runProbe } from "./probe.ts";
import { CHILD_COMMAND, runChildCommand } from "../plugins/mod.ts";
import { runStart, type StartOptions } from "./start.ts";
import { parseHostPort, USAGE, UsageError } from "./usage.ts";

/** Where a command writes its output and its diagnostics (`run`'s `io`). */
export type { CommandIO } from "./check.ts";

/** The config `start` uses when none is given. */
const DEFAULT_CONFIG = "dev/config.dev.yaml";

/** Writes command output to stdout and diagnostics to stderr. */
const consoleIO: CommandIO = {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
};

/** Runs one command line (without the program name) and returns the process exit code. */
export async function run(args: readonly string[], io: CommandIO = consoleIO): Promise<number> {
  try {
    const [command, ...rest] = args;
    switch (command) {
      case "start":
        return await start(rest, io);
      case "serve":
        return await serve(rest, io);
      case "check":
        return await check(rest, io);
      case "probe":
        return await probe(rest, io);
      case "explain":
        return await explain(rest, io);
      case EXPLAIN_CHILD:
        // Hidden: `explain` from source runs itself sandboxed as this command (launch.ts).
        return await runExplain(parseExplainArgs(rest), io);
      case CHILD_COMMAND:
        // Hidden: the bundle running as a WASM plugin's child process (`wasm.isolation:
        // process`, see `plugins/wasm/process_command.ts`); from source the child has an entry
        // file of its own.
        return Deno.exit(await runChildCommand());
      case "plugin:test": {
        // Loaded on demand: only this command needs the WASM host on the CLI's side.
        const { runPluginTest } = await import("../plugins/wasm/mod.ts");
        return await runPluginTest(rest, { print: io.out });
      }
      case undefined:
      case "help":
      case "--help":
      case "-h":
        io.out(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    }
  } catch (err) {
    if (!(err instanceof UsageError) && !isParseArgsError(err)) throw err;
    io.err(`gatehouse: ${(err as Error).message}`);
    io.err(`run 'gatehouse help' for usage`);
    return 2;
  }
}

/** `start`: the sandboxed router (a launcher running `serve` with exact permissions). */
function start(args: readonly string[], io: CommandIO): Promise<number> {
  const options = startOptions(args);
  if (isCompiledBinary()) return runStart(options, io);
  return runLauncher(options.configPath, args, io);
}

/**
 * `serve`: the router in this process, with the permissions this process has. Under `start` the
 * launcher puts {@link LIFELINE_FLAG} first: the router then stops when its stdin ends.
 */
function serve(args: readonly string[], io: CommandIO): Promise<number> {
  const lifeline = args[0] === LIFELINE_FLAG;
  return runStart({ ...startOptions(lifeline ? args.slice(1) : args), lifeline }, io);
}

function startOptions(args: readonly string[]): StartOptions {
  const { values } = parseArgs({
    args: [...args],
    options: {
      config: { type: "string", default: DEFAULT_CONFIG },
      "log-level": { type: "string", default: "info" },
      "log-format": { type: "string", default: "text" },
    },
  });
  const logLevel = oneOf(values["log-level"], LOG_LEVELS, "--log-level");
  const logFormat = oneOf(values["log-format"], LOG_FORMATS, "--log-format");
  return { configPath: values.config, logLevel, logFormat };
}

function check(args: readonly string[], io: CommandIO): Promise<number> {
  const { values } = parseArgs({ args: [...args], options: { config: { type: "string" } } });
  if (!values.config) throw new UsageError("check: --config FILE is required");
  return runCheck(values.config, io);
}

/** `explain`: arguments checked here (exit 2), then the decision in a sandboxed child. */
function explain(args: readonly string[], io: CommandIO): Promise<number> {
  const options = parseExplainArgs(args);
  if (isCompiledBinary()) return runExplain(options, io);
  return runSandboxed(options.configPath, [EXPLAIN_CHILD, ...args], io);
}

function probe(args: readonly string[], io: CommandIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      sni: { type: "string" },
      username: { type: "string", default: "probe" },
      uuid: { type: "string", default: "00000000-0000-0000-0000-000000000000" },
      language: { type: "string", default: "en-US" },
      timeout: { type: "string", default: "5s" },
      secret: { type: "string" },
      alpn: { type: "string", default: "hytale/2" },
    },
  });
  if (positionals.length !== 1) throw new UsageError("probe: expected exactly one HOST:PORT");
  if (values.sni === undefined) throw new UsageError("probe: --sni NAME is required");
  if (!isUuidText(values.uuid)) {
    throw new UsageError(`probe: --uuid must look like 8-4-4-4-12 hex, got ${values.uuid}`);
  }
  const target = parseHostPort(positionals[0]!, "probe");
  if (values.sni === "" && !isIpLiteral(target.hostname)) {
    throw new UsageError(
      `probe: --sni "" sends no SNI only when dialling an IP address; ${target.hostname} is a name`,
    );
  }
  return runProbe({
    ...target,
    sni: values.sni,
    username: values.username,
    uuid: values.uuid,
    language: values.language,
    timeoutMs: durationArg(values.timeout, "--timeout"),
    secret: values.secret ?? null,
    alpn: values.alpn.split(","),
  }, io);
}

function isIpLiteral(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(":");
}

function oneOf<T extends string>(value: string, allowed: readonly T[], flag: string): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new UsageError(
    `${flag} must be one of ${allowed.join(", ")}; got ${JSON.stringify(value)}`,
  );
}

function durationArg(text: string, flag: string): number {
  try {
    const ms = parseDuration(text);
    if (ms > 0 && ms <= MAX_TIMER_MS) return ms;
  } catch { /* reported below */ }
  throw new UsageError(
    `${flag}: expected a positive duration up to ~24 days, like 500ms or 5s; got ${text}`,
  );
}

// node:util parseArgs throws TypeErrors with these codes for unknown or malformed options.
function isParseArgsError(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === "string" && code.startsWith("ERR_PARSE_ARGS");
}
