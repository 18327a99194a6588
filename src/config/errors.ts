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
  readonly line: number;
  readonly column: number;
}

/** Everything needed to build one {@link ConfigError}. */
export interface ConfigErrorInit {
  readonly code: ConfigErrorCode;
  /** Config file name as given by the caller; `""` when there is no file. */
  readonly source?: string;
  /** Config path such as `routing.routes[2].pool.strategy`; `""` for the whole file. */
  readonly path?: string;
  readonly position?: Position | null;
  /** What is wrong, without location. */
  readonly detail: string;
  /** A suggestion such as `did you mean "strategy"?`. */
  readonly hint?: string | null;
}

/** One problem in a config file, located by config path and line:column. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly code: ConfigErrorCode;
  readonly source: string;
  readonly path: string;
  readonly line: number | null;
  readonly column: number | null;
  readonly hint: string | null;

  constructor(init: ConfigErrorInit) {
    super(formatMessage(init));
    this.code = init.code;
    this.source = init.source ?? "";
    this.path = init.path ?? "";
    this.line = init.position?.line ?? null;
    this.column = init.position?.column ?? null;
    this.hint = init.hint ?? null;
  }
}

/** All problems found in one config file, sorted by position (file-level problems first). */
export class ConfigErrors extends Error {
  override readonly name = "ConfigErrors";
  readonly errors: readonly ConfigError[];

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
