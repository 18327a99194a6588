import { type Backend, type CompareOp, type FilterConfig, goTrimSpace } from "../config/mod.ts";
import { parseGoInt64 } from "./go_compat.ts";
import { compileNumberKey, metaValue } from "./meta_key.ts";
import { perBackend } from "./per_backend.ts";

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
  // The switch and the list are read once per backend; only the lookup depends on the client.
  const admittedBy = perBackend((b) => readWhitelist(b, enabledName, listName));
  return (b, client) => {
    const admitted = admittedBy(b);
    if (admitted === null) return true;
    const want = subject === "username" ? client.username : client.uuid;
    return want !== "" && admitted.has(want);
  };
}

const NOBODY: ReadonlySet<string> = new Set();

/** The names a backend's whitelist admits; `null` when it is switched off (all pass). */
function readWhitelist(
  b: Backend,
  enabledName: string,
  listName: string,
): ReadonlySet<string> | null {
  const enabled = goTrimSpace(metaValue(b, enabledName)).toLowerCase();
  if (enabled !== "true" && enabled !== "1" && enabled !== "yes") return null;
  if (listName === "") return NOBODY;
  return parseList(goTrimSpace(metaValue(b, listName)));
}

/**
 * `list` is a JSON array of strings (when it starts with `[`) or a comma-separated list; an
 * empty or unreadable one admits nobody. An empty entry (`a,,b`, JSON `null`, which Go reads as
 * `""`) is harmless: an empty subject fails before the lookup.
 */
function parseList(list: string): ReadonlySet<string> {
  if (list === "") return NOBODY;
  if (!list.startsWith("[")) return new Set(list.split(",").map((entry) => goTrimSpace(entry)));
  let parsed: unknown;
  try {
    parsed = JSON.parse(list);
  } catch {
    return NOBODY;
  }
  // Go decodes into []string: a non-string element fails the whole list.
  if (!Array.isArray(parsed)) return NOBODY;
  if (!parsed.every((x) => x === null || typeof x === "string")) return NOBODY;
  return new Set(parsed.filter((x): x is string => typeof x === "string"));
}

/** A backend's game start in epoch ms, or a verdict that does not depend on the clock. */
type GameStart = number | "none" | "unreadable";

/**
 * Passes while the backend's game start is still ahead; no start passes, an unreadable one
 * fails. The start is parsed once per backend, but compared with the clock on every decision.
 */
function compileGameStart(key: string): BackendFilter {
  const name = goTrimSpace(key);
  if (name === "") return () => false;
  const startOf = perBackend((b) => parseGameStart(metaValue(b, name)));
  return (b, client) => {
    const start = startOf(b);
    if (start === "none") return true;
    if (start === "unreadable") return false;
    return start > client.nowMs;
  };
}

/**
 * Seconds below 10^10, otherwise milliseconds; absent/empty or `-1` is no start, anything but a
 * base-10 int64 is unreadable.
 */
function parseGameStart(value: string): GameStart {
  const raw = goTrimSpace(value);
  if (raw === "") return "none";
  const n = parseGoInt64(raw);
  if (n === undefined) return "unreadable";
  if (n === -1) return "none";
  return n > 0 && n < 10_000_000_000 ? n * 1000 : n;
}
