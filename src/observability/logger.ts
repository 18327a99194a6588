/** Severity levels, lowest first: the accepted `--log-level` values. */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;

/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Output formats of log lines: the accepted `--log-format` values. */
export const LOG_FORMATS = ["text", "json"] as const;

/** One of {@link LOG_FORMATS}. */
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Structured fields of one log line; `undefined` values are left out. */
export type LogFields = Readonly<Record<string, string | number | boolean | null | undefined>>;

/** Where finished lines go and what time it is; injected so tests can capture both. */
export interface LogSink {
  /** Takes one finished line (no trailing newline) and the level it was logged at. */
  write(line: string, level: LogLevel): void;
  /** The timestamp for the next line. */
  now(): Date;
}

/** Each level's rank: its index in {@link LOG_LEVELS}. */
const LEVEL_RANK: Readonly<Record<LogLevel, number>> = Object.fromEntries(
  LOG_LEVELS.map((level, rank) => [level, rank]),
) as Record<LogLevel, number>;

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

// JSON.stringify already escapes `"`, `\\` and C0 controls; the characters it leaves raw that
// some readers still take as line breaks or terminal commands (DEL, C1 such as NEL U+0085,
// U+2028/U+2029) become `\uNNNN` escapes too, so a JSON line is one line for any reader.
function formatJson(time: string, level: LogLevel, msg: string, fields: LogFields): string {
  const out: Record<string, unknown> = { time, level, msg };
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) out[k] = v;
  return JSON.stringify(out).replace(JSON_RAW, (c) => `\\u${hex(c, 4)}`);
}

const JSON_RAW = /[\x7f-\x9f\u2028\u2029]/g;

/*
 * Text lines are `TIME LEVEL MESSAGE key=value ...`, and whatever a message or value holds —
 * plugin output included — the line stays one line and no one can forge a line or a field:
 * - every character that could end a line or command a terminal (C0 and C1 controls, DEL,
 *   U+2028/U+2029, bidi overrides) is escaped: `\n`, `\r`, `\t`, `\xNN`, `\uNNNN`;
 * - a value (or key) is quoted, with `"` and `\` escaped, when it is empty or holds anything
 *   but printable ASCII other than `"`, `=` and `\`;
 * - the message is written bare while it is plain text (no `"`, `=`, `\`, escaped character,
 *   or leading/trailing space: every message of the router's own), else quoted like a value.
 *   A plugin's text is the message (readable, and still `msg` in JSON), so `x\nlevel=error`
 *   is written as `"x\nlevel=error"`: visibly one quoted message, never a second line or field.
 */
function formatText(time: string, level: LogLevel, msg: string, fields: LogFields): string {
  let line = `${time} ${level.toUpperCase().padEnd(5)} ${textMessage(msg)}`;
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    line += ` ${textValue(k)}=${textValue(v)}`;
  }
  return line;
}

// Characters escaped in text lines (see above); `"` and `\` also, inside quotes.
// `\p{Cc}` is C0, DEL and C1.
const ESCAPED = /[\p{Cc}\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;
const QUOTED_ESCAPES = new RegExp(`["\\\\]|${ESCAPED.source}`, "gu");
const NAMED_ESCAPES: Readonly<Record<string, string>> = {
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  '"': '\\"',
  "\\": "\\\\",
};

function textMessage(msg: string): string {
  const plain = msg !== "" && !/["=\\]|^\s|\s$/.test(msg) && !ESCAPED.test(msg);
  return plain ? msg : quote(msg);
}

function textValue(v: string | number | boolean | null): string {
  if (typeof v !== "string") return String(v);
  return v === "" || /[^\x21-\x7e]|["=\\]/.test(v) ? quote(v) : v;
}

function quote(s: string): string {
  const escaped = s.replace(
    QUOTED_ESCAPES,
    (c) => NAMED_ESCAPES[c] ?? (c < "\u0100" ? `\\x${hex(c, 2)}` : `\\u${hex(c, 4)}`),
  );
  return `"${escaped}"`;
}

const ESCAPED_ALL = new RegExp(ESCAPED.source, "gu");

/**
 * `s` with every character a text log line escapes (control characters, line separators, bidi
 * overrides) written as an escape, for untrusted text printed outside the logger (CLI output).
 */
export function printable(s: string): string {
  return s.replace(
    ESCAPED_ALL,
    (c) => NAMED_ESCAPES[c] ?? (c < "\u0100" ? `\\x${hex(c, 2)}` : `\\u${hex(c, 4)}`),
  );
}

function hex(c: string, digits: number): string {
  return c.charCodeAt(0).toString(16).padStart(digits, "0");
}
