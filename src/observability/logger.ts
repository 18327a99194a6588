/** Severity levels, lowest first. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** Output format of log lines. */
export type LogFormat = "text" | "json";

/** Structured fields of one log line; `undefined` values are left out. */
export type LogFields = Readonly<Record<string, string | number | boolean | null | undefined>>;

/** Where finished lines go and what time it is; injected so tests can capture both. */
export interface LogSink {
  /** Takes one finished line (no trailing newline) and the level it was logged at. */
  write(line: string, level: LogLevel): void;
  /** The timestamp for the next line. */
  now(): Date;
}

const LEVEL_RANK: Readonly<Record<LogLevel, number>> = { debug: 0, info: 1, warn: 2, error: 3 };

/** The log levels accepted by `--log-level`. */
export const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];

const stderrEncoder = new TextEncoder();

/** Writes to stderr (stdout stays free for command output such as `probe`'s JSON line). */
export const stderrSink: LogSink = {
  write(line) {
    Deno.stderr.writeSync(stderrEncoder.encode(line + "\n"));
  },
  now: () => new Date(),
};

/** A leveled logger writing one line per event, as `key=value` text or JSON. */
export class Logger {
  readonly #minRank: number;
  readonly #format: LogFormat;
  readonly #sink: LogSink;
  readonly #base: LogFields;

  /**
   * Lines below `level` are dropped; `sink` defaults to {@link stderrSink}; `fields` go on
   * every line.
   */
  constructor(
    options: { level: LogLevel; format: LogFormat; sink?: LogSink; fields?: LogFields },
  ) {
    this.#minRank = LEVEL_RANK[options.level];
    this.#format = options.format;
    this.#sink = options.sink ?? stderrSink;
    this.#base = options.fields ?? {};
  }

  /** A logger that adds `fields` to every line (e.g. `{plugin: "auth"}`). */
  with(fields: LogFields): Logger {
    const child = new Logger({
      level: LOG_LEVELS[this.#minRank] ?? "info",
      format: this.#format,
      sink: this.#sink,
      fields: { ...this.#base, ...fields },
    });
    return child;
  }

  /** Whether lines at `level` are written; lets callers skip building expensive fields. */
  enabled(level: LogLevel): boolean {
    return LEVEL_RANK[level] >= this.#minRank;
  }

  /** Logs `msg` at `debug`, with `fields` added to the logger's own. */
  debug(msg: string, fields?: LogFields): void {
    this.#log("debug", msg, fields);
  }
  /** Logs `msg` at `info`, with `fields` added to the logger's own. */
  info(msg: string, fields?: LogFields): void {
    this.#log("info", msg, fields);
  }
  /** Logs `msg` at `warn`, with `fields` added to the logger's own. */
  warn(msg: string, fields?: LogFields): void {
    this.#log("warn", msg, fields);
  }
  /** Logs `msg` at `error`, with `fields` added to the logger's own. */
  error(msg: string, fields?: LogFields): void {
    this.#log("error", msg, fields);
  }

  #log(level: LogLevel, msg: string, fields: LogFields | undefined): void {
    if (LEVEL_RANK[level] < this.#minRank) return;
    const time = this.#sink.now().toISOString();
    const all = fields ? { ...this.#base, ...fields } : this.#base;
    const line = this.#format === "json"
      ? formatJson(time, level, msg, all)
      : formatText(time, level, msg, all);
    this.#sink.write(line, level);
  }
}

function formatJson(time: string, level: LogLevel, msg: string, fields: LogFields): string {
  const out: Record<string, unknown> = { time, level, msg };
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) out[k] = v;
  return JSON.stringify(out);
}

function formatText(time: string, level: LogLevel, msg: string, fields: LogFields): string {
  let line = `${time} ${level.toUpperCase().padEnd(5)} ${msg}`;
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    line += ` ${k}=${textValue(v)}`;
  }
  return line;
}

// Quote values that would break `key=value` parsing (spaces, quotes, `=`), JSON-style.
function textValue(v: string | number | boolean | null): string {
  if (typeof v !== "string") return String(v);
  return v === "" || /[\s"=\\]/.test(v) || /[^\x20-\x7e]/.test(v) ? JSON.stringify(v) : v;
}
