import type { Backend, SortKeyConfig } from "../config/mod.ts";
import { compareGoStrings, goStableSort } from "./go_compat.ts";
import { compileNumberKey, compileStringKey } from "./meta_key.ts";

/** Returns a sorted copy of the candidates. */
export type Sorter = (candidates: readonly Backend[]) => Backend[];

type SortValue = string | number | undefined;

interface SortKey {
  readonly read: (backend: Backend) => SortValue;
  /** 1 ascending, -1 descending. */
  readonly direction: 1 | -1;
}

interface Row {
  readonly backend: Backend;
  readonly values: readonly SortValue[];
}

/**
 * Compiles a pool's `sort` list into a stable multi-key sort; `null` when there are no keys.
 * Per key, a present value sorts before a missing one whatever the order; numbers compare
 * numerically, strings by code point (Go's byte order). The first key that tells two backends
 * apart decides; NaN tells nothing apart and also ends the comparison, as in the Go router —
 * which makes the order inconsistent, hence Go's own sorting algorithm rather than
 * `Array.prototype.sort`.
 */
export function compileSort(keys: readonly SortKeyConfig[]): Sorter | null {
  if (keys.length === 0) return null;
  const sortKeys: SortKey[] = keys.map((k) => ({
    read: k.type === "number" ? compileNumberKey(k.key) : compileStringKey(k.key),
    direction: k.order === "desc" ? -1 : 1,
  }));
  const less = (x: Row, y: Row): boolean => compareRows(sortKeys, x.values, y.values) < 0;
  return (candidates) => {
    // Each value is read once per decision rather than once per comparison.
    const rows: Row[] = candidates.map((backend) => ({
      backend,
      values: sortKeys.map((k) => k.read(backend)),
    }));
    goStableSort(rows, less);
    return rows.map((row) => row.backend);
  };
}

function compareRows(
  keys: readonly SortKey[],
  a: readonly SortValue[],
  b: readonly SortValue[],
): number {
  for (let i = 0; i < keys.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x === y) continue;
    if (x === undefined) return 1;
    if (y === undefined) return -1;
    const order = typeof x === "number" && typeof y === "number"
      ? (x < y ? -1 : x > y ? 1 : 0)
      : compareGoStrings(String(x), String(y));
    return order * keys[i]!.direction;
  }
  return 0;
}
