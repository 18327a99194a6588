import { indexPath, type Obj, type Reader } from "./fields.ts";
import type { Node } from "./nodes.ts";
import { didYouMean } from "./suggest.ts";
import {
  COMPARE_OPS,
  type FilterConfig,
  type SortKeyConfig,
  STRATEGY_NAMES,
  type StrategyName,
} from "./types.ts";

/** Strategies that minimise a metadata `key` and so require one. */
export function needsKey(strategy: StrategyName | undefined): boolean {
  return strategy === "least_loaded" || strategy === "p2c";
}

/** A strategy name (case-insensitive, `-` = `_`). */
export function readStrategy(
  r: Reader,
  node: Node | undefined,
  path: string,
): StrategyName | undefined {
  return r.choice(node, path, "strategy", STRATEGY_NAMES);
}

const SORT_KEYS = ["key", "order", "type"];

/** A `sort` list; `undefined` when absent or null. */
export function readSortKeys(
  r: Reader,
  node: Node | undefined,
  path: string,
): SortKeyConfig[] | undefined {
  return r.list(node, path)?.flatMap((item, i) => {
    const obj = r.item(item, indexPath(path, i), SORT_KEYS);
    if (obj === undefined) return [];
    const key = r.text(obj, "key");
    const order = r.choice(obj.get("order"), obj.at("order"), "sort order", ["asc", "desc"], "asc");
    const type = r.choice(
      obj.get("type"),
      obj.at("type"),
      "sort type",
      ["string", "number"],
      "string",
    );
    return key === undefined ? [] : [{ key, order: order ?? "asc", type: type ?? "string" }];
  });
}

type FilterType = FilterConfig["type"];
const FILTER_KEYS: Readonly<Record<FilterType, readonly string[]>> = {
  compare: ["type", "left", "op", "right"],
  whitelist: ["type", "enabled_key", "list_key", "subject"],
  game_start_not_past: ["type", "key"],
};
const FILTER_TYPES = Object.keys(FILTER_KEYS) as FilterType[];
const ALL_FILTER_KEYS = [...new Set(Object.values(FILTER_KEYS).flat())];

/** A `filters` list; `undefined` when absent or null. */
export function readFilters(
  r: Reader,
  node: Node | undefined,
  path: string,
): FilterConfig[] | undefined {
  return r.list(node, path)?.flatMap((item, i) => {
    const obj = r.item(item, indexPath(path, i), ALL_FILTER_KEYS);
    const type = obj &&
      r.choice(r.required(obj, "type"), obj.at("type"), "filter type", FILTER_TYPES);
    if (obj === undefined || type === undefined) return [];
    rejectForeignKeys(r, obj, type);
    const filter = readFilter(r, obj, type);
    return filter === undefined ? [] : [filter];
  });
}

// Hyrouter has one flat filter struct and ignores fields the type does not use; a field that
// does nothing is almost certainly a mistake, so it is reported like an unknown key.
function rejectForeignKeys(r: Reader, obj: Obj, type: FilterType): void {
  const valid = FILTER_KEYS[type];
  for (const key of obj.keys().filter((k) => !valid.includes(k))) {
    const hint = didYouMean(key, valid) ?? `filter type "${type}" uses: ${valid.join(", ")}`;
    r.report(
      "unknown_key",
      obj.at(key),
      obj.keyPosition(key),
      `unknown key "${key}" for filter type "${type}"`,
      hint,
    );
  }
}

function readFilter(r: Reader, obj: Obj, type: FilterType): FilterConfig | undefined {
  switch (type) {
    case "compare": {
      const left = r.text(obj, "left");
      const op = r.choice(r.required(obj, "op"), obj.at("op"), "compare op", COMPARE_OPS);
      const right = r.text(obj, "right");
      if (left === undefined || op === undefined || right === undefined) return undefined;
      return { type, left, op, right };
    }
    case "whitelist": {
      const enabledKey = r.text(obj, "enabled_key");
      const listKey = r.text(obj, "list_key");
      const subjects = ["uuid", "username"] as const;
      const subject = r.choice(obj.get("subject"), obj.at("subject"), "subject", subjects, "uuid");
      if (enabledKey === undefined || listKey === undefined) return undefined;
      return { type, enabledKey, listKey, subject: subject ?? "uuid" };
    }
    case "game_start_not_past": {
      const key = r.text(obj, "key");
      return key === undefined ? undefined : { type, key };
    }
  }
}
