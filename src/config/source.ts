import { ConfigError, ConfigErrors } from "./errors.ts";
import { parseJson } from "./json_source.ts";
import type { Format, Node } from "./nodes.ts";
import { parseYaml } from "./yaml_source.ts";

/** A config text read into positioned nodes. */
export interface SourceDocument {
  readonly source: string;
  readonly format: Format;
  /** `null` for an empty YAML document (every setting keeps its default, as in Go). */
  readonly root: Node | null;
}

const FORMATS: Readonly<Record<string, Format>> = {
  ".yaml": "yaml",
  ".yml": "yaml",
  ".json": "json",
};

/** The format a file name selects by its extension (case-insensitive), or the error naming it. */
export function formatOf(source: string): Format | ConfigError {
  const name = source.slice(source.search(/[^/\\]*$/));
  const dot = name.lastIndexOf(".");
  const extension = dot >= 0 ? name.slice(dot) : "";
  const format = FORMATS[extension.toLowerCase()];
  if (format !== undefined) return format;
  const detail = extension === ""
    ? "config file name has no extension (expected .yaml, .yml or .json)"
    : `unsupported config file extension "${extension}" (expected .yaml, .yml or .json)`;
  return new ConfigError({ code: "extension", source, detail });
}

/** Parses `text` as the format `source`'s extension selects; throws {@link ConfigErrors}. */
export function readSource(text: string, source: string): SourceDocument {
  const format = formatOf(source);
  if (format instanceof ConfigError) throw new ConfigErrors([format]);
  const parsed = format === "json" ? parseJson(text) : parseYaml(text);
  if (!parsed.ok) {
    throw new ConfigErrors(parsed.problems.map((p) =>
      new ConfigError({
        code: "syntax",
        source,
        position: p.position,
        detail: `${format === "json" ? "JSON" : "YAML"} syntax error: ${p.detail}`,
      })
    ));
  }
  return { source, format, root: parsed.root };
}
