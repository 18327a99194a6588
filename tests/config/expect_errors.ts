import { AssertionError } from "node:assert/strict";
import { type ConfigError, ConfigErrors, parseConfig } from "../../src/config/mod.ts";

/** Joins lines with "\n" so a test can count line numbers at a glance. */
export function lines(...text: string[]): string {
  return text.join("\n") + "\n";
}

/** The errors parsing `text` throws; fails when it parses. */
export function errorsOf(text: string, source = "config.yaml"): readonly ConfigError[] {
  try {
    parseConfig(text, source);
  } catch (e) {
    if (e instanceof ConfigErrors) return e.errors;
    throw e;
  }
  throw new AssertionError({ message: `expected ${source} to be rejected` });
}

/** Each error as `code path line:column`, in reported order. */
export function summaries(text: string, source = "config.yaml"): string[] {
  return errorsOf(text, source).map(summary);
}

/** One error as `code path line:column`. */
export function summary(e: ConfigError): string {
  return `${e.code} ${e.path} ${e.line}:${e.column}`;
}
