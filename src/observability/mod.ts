/**
 * Observability: the structured logger. (Metrics and the admin HTTP endpoint come with the
 * operability work.)
 *
 * @module
 */

export {
  /** The accepted `--log-level` values. */
  LOG_LEVELS,
  /** A leveled logger writing text or JSON lines. */
  Logger,
  /** The default sink: lines to stderr. */
  stderrSink,
} from "./logger.ts";
export type { LogFields, LogFormat, LogLevel, LogSink } from "./logger.ts";
