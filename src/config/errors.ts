/** What kind of problem a {@link ConfigError} reports. */
export type ConfigErrorCode =
  /** The file could not be read. */
  | "io"
  /** The file name's extension selects no known format. */
  | "extension"
  /** YAML or JSON syntax error (including duplicate keys). */
  | "syntax"
  /** A key that does not exist at that level. */
  | "unknown_key"
  /** A value of the wrong type (a list where a string belongs, `"5520"` for a port, …). */
  | "type"
  /** A required key is missing. */
  | "required"
  /** A value of the right type that is not allowed (out of range, unknown name, bad syntax). */
  | "invalid"
  /** A name that refers to something that is not configured (a discovery provider). */
  | "reference"
  /** A section this build does not implement yet. */
  | "unsupported";

/** 1-based line and column of a node in the config file. */
export interface Position {
  /** 1-based line. */
  readonly line: number;
  /** 1-based column. */
  readonly column: number;
}

/** Everything needed to build one {@link ConfigError}. */
export interface ConfigErrorInit {
  /** What kind of problem it is. */
  readonly code: ConfigErrorCode;
  /** Config file name as given by the caller; `""` when there is no file. */
  readonly source?: string;
  /** Config path such as `routing.routes[2].pool.strategy`; `""` for the whole file. */
  readonly path?: string;
  /** Where the offending node is; absent or `null` for file-level problems. */
  readonly position?: Position | null;
  /** What is wrong, without location. */
  readonly detail: string;
  /** A suggestion such as `did you mean "strategy"?`. */
  readonly hint?: string | null;
}

/** One problem in a config file, located by config path and line:column. */
export class ConfigError extends Error {
  /** Fixed, so logs and stack traces name the class. */
  override readonly name = "ConfigError";
  /** What kind of problem it is. */
  readonly code: ConfigErrorCode;
  /** Config file name as given by the caller; `""` when there is no file. */
  readonly source: string;
  /** Config path such as `routing.routes[2].pool.strategy`; `""` for the whole file. */
  readonly path: string;
  /** 1-based line, or `null` when the problem has no position. */
  readonly line: number | null;
  /** 1-based column, or `null` when the problem has no position. */
  readonly column: number | null;
  /** A suggestion such as `did you mean "strategy"?`, or `null`. */
  readonly hint: string | null;
  /** What is wrong, without location (the message's main part). */
  readonly detail: string;

  /** Builds the message as `file:line:col path: detail (hint)`, leaving out empty parts. */
  constructor(init: ConfigErrorInit) {
    super(formatMessage(init));
    this.code = init.code;
    this.detail = init.detail;
    this.source = init.source ?? "";
    this.path = init.path ?? "";
    this.line = init.position?.line ?? null;
    this.column = init.position?.column ?? null;
    this.hint = init.hint ?? null;
  }
}

/** All problems found in one config file, sorted by position (file-level problems first). */
export class ConfigErrors extends Error {
  /** Fixed, so logs and stack traces name the class. */
  override readonly name = "ConfigErrors";
  /** Every problem, sorted by position (frozen). */
  readonly errors: readonly ConfigError[];

  /** Sorts `errors`; the message is the single error's, or a count followed by one per line. */
  constructor(errors: readonly ConfigError[]) {
    const sorted = Object.freeze([...errors].sort(byPosition));
    super(summary(sorted));
    this.errors = sorted;
  }
}

function formatMessage(init: ConfigErrorInit): string {
  const position = init.position ? `:${init.position.line}:${init.position.column}` : "";
  const location = (init.source ?? "") + position;
  const subject = [location, init.path ?? ""].filter((part) => part !== "").join(" ");
  const hint = init.hint ? ` (${init.hint})` : "";
  return (subject === "" ? "" : `${subject}: `) + init.detail + hint;
}

function byPosition(a: ConfigError, b: ConfigError): number {
  return (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0);
}

function summary(errors: readonly ConfigError[]): string {
  if (errors.length === 1) return errors[0]?.message ?? "";
  return `${errors.length} config errors:\n` + errors.map((e) => `  ${e.message}`).join("\n");
}
