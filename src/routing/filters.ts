import type { Backend, CompareOp, FilterConfig } from "../config/mod.ts";
import { goTrimSpace, parseGoInt64 } from "./go_compat.ts";
import { compileNumberKey, metaValue } from "./meta_key.ts";

/** What the filters know about the client, taken once per decision. */
export interface ClientFacts {
  /** The Connect's uuid, Go-`TrimSpace`d. */
  readonly uuid: string;
  /** The Connect's username, Go-`TrimSpace`d. */
  readonly username: string;
  /** Epoch milliseconds. */
  readonly nowMs: number;
}

/** True when `backend` passes. */
export type BackendFilter = (backend: Backend, client: ClientFacts) => boolean;

const COMPARE: Readonly<Record<CompareOp, (a: number, b: number) => boolean>> = {
  lt: (a, b) => a < b,
  lte: (a, b) => a <= b,
  gt: (a, b) => a > b,
  gte: (a, b) => a >= b,
  eq: (a, b) => a === b,
  neq: (a, b) => a !== b,
};

/** Compiles a pool's `filters` into one predicate (all must pass); `null` when there are none. */
export function compileFilters(filters: readonly FilterConfig[]): BackendFilter | null {
  if (filters.length === 0) return null;
  const compiled = filters.map(compileFilter);
  if (compiled.length === 1) return compiled[0]!;
  return (backend, client) => compiled.every((pass) => pass(backend, client));
}

function compileFilter(filter: FilterConfig): BackendFilter {
  switch (filter.type) {
    case "compare":
      return compileCompare(filter.left, filter.op, filter.right);
    case "whitelist":
      return compileWhitelist(filter.enabledKey, filter.listKey, filter.subject);
    case "game_start_not_past":
      return compileGameStart(filter.key);
  }
}

/** Both sides are keys (not literals), read as numbers; a missing side fails. */
function compileCompare(left: string, op: CompareOp, right: string): BackendFilter {
  const readLeft = compileNumberKey(left);
  const readRight = compileNumberKey(right);
  const holds = COMPARE[op];
  return (b) => {
    const l = readLeft(b);
    if (l === undefined) return false;
    const r = readRight(b);
    return r !== undefined && holds(l, r);
  };
}

/**
 * A backend with its whitelist switched on admits only listed clients. Keys name metadata
 * exactly (no `label:` translation). An empty subject or an unreadable list fails.
 */
function compileWhitelist(
  enabledKey: string,
  listKey: string,
  subject: "uuid" | "username",
): BackendFilter {
  const enabledName = goTrimSpace(enabledKey);
  const listName = goTrimSpace(listKey);
  if (enabledName === "") return () => false;
  return (b, client) => {
    const enabled = goTrimSpace(metaValue(b, enabledName)).toLowerCase();
    if (enabled !== "true" && enabled !== "1" && enabled !== "yes") return true;
    if (listName === "") return false;
    const list = goTrimSpace(metaValue(b, listName));
    const want = subject === "username" ? client.username : client.uuid;
    return list !== "" && want !== "" && listContains(list, want);
  };
}

/** `list` is a JSON array of strings (when it starts with `[`) or a comma-separated list. */
function listContains(list: string, want: string): boolean {
  if (!list.startsWith("[")) {
    return list.split(",").some((entry) => goTrimSpace(entry) === want);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(list);
  } catch {
    return false;
  }
  // Go decodes into []string: a non-string element fails the whole list; null reads as "".
  if (!Array.isArray(parsed)) return false;
  if (!parsed.every((x) => x === null || typeof x === "string")) return false;
  return parsed.includes(want);
}

/**
 * Passes while the backend's game start (seconds below 10^10, otherwise milliseconds) is still
 * ahead; absent/empty or `-1` passes, anything but a base-10 int64 fails.
 */
function compileGameStart(key: string): BackendFilter {
  const name = goTrimSpace(key);
  if (name === "") return () => false;
  return (b, client) => {
    const raw = goTrimSpace(metaValue(b, name));
    if (raw === "") return true;
    const n = parseGoInt64(raw);
    if (n === undefined) return false;
    if (n === -1) return true;
    const startMs = n > 0 && n < 10_000_000_000 ? n * 1000 : n;
    return startMs > client.nowMs;
  };
}
