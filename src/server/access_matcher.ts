/**
 * The `access` lists compiled for lookup: per list and family, the ranges as sorted, disjoint
 * `[start, end]` pairs of 32-bit words in typed arrays, searched by bisection — O(log n) per
 * client, no allocation, whatever the list's length. Built once per config (load and reload).
 *
 * @module
 */
import type { AccessConfig, CidrRange } from "../config/mod.ts";

/** Whether an address may connect under one config's `access` lists: deny wins, then allow. */
export class AccessMatcher {
  readonly #allow: RangeSets | null;
  readonly #deny: RangeSets;

  /** Compiles `access` (ranges as the config loader produced them: host bits zero). */
  constructor(access: AccessConfig) {
    this.#allow = access.allow === null ? null : new RangeSets(access.allow);
    this.#deny = new RangeSets(access.deny);
  }

  /** Whether only listed ranges get in (an address that cannot be read is then refused). */
  get restricted(): boolean {
    return this.#allow !== null;
  }

  /**
   * Whether the address in `words` (IPv4 in `words[0]`, IPv6 in `words[0..3]`, as
   * `parseIpAddress` fills them; an IPv4-mapped client already turned into IPv4) may connect.
   */
  permits(family: 4 | 6, words: Uint32Array): boolean {
    if (this.#deny.has(family, words)) return false;
    return this.#allow === null || this.#allow.has(family, words);
  }
}

/** One list's ranges, by family. */
class RangeSets {
  readonly #v4: RangeList;
  readonly #v6: RangeList;

  constructor(ranges: readonly CidrRange[]) {
    this.#v4 = new RangeList(1, ranges.filter((r) => r.family === 4));
    this.#v6 = new RangeList(4, ranges.filter((r) => r.family === 6));
  }

  has(family: 4 | 6, words: Uint32Array): boolean {
    return family === 4 ? this.#v4.has(words) : this.#v6.has(words);
  }
}

/** Sorted disjoint ranges of `width`-word addresses. */
class RangeList {
  readonly #width: number;
  readonly #starts: Uint32Array;
  readonly #ends: Uint32Array;
  readonly #count: number;

  constructor(width: number, ranges: readonly CidrRange[]) {
    this.#width = width;
    // By start, the larger block first when two start together.
    const spans = ranges.map((r) => span(r, width))
      .sort((a, b) => compareWords(a[0], b[0]) || compareWords(b[1], a[1]));
    const merged: [number[], number[]][] = [];
    for (const [start, end] of spans) {
      const last = merged[merged.length - 1];
      // CIDR blocks either nest or are disjoint: a block starting inside the last one is in it.
      if (last && compareWords(start, last[1]) <= 0) continue;
      merged.push([start, end]);
    }
    this.#count = merged.length;
    this.#starts = new Uint32Array(merged.flatMap(([s]) => s));
    this.#ends = new Uint32Array(merged.flatMap(([, e]) => e));
  }

  has(words: Uint32Array): boolean {
    // The last range starting at or before the address, if the address is not past its end.
    let lo = 0, hi = this.#count - 1, found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#compareAt(this.#starts, mid, words) <= 0) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found >= 0 && this.#compareAt(this.#ends, found, words) >= 0;
  }

  /** Sign of `list[index] - words`, compared word by word. */
  #compareAt(list: Uint32Array, index: number, words: Uint32Array): number {
    const base = index * this.#width;
    for (let k = 0; k < this.#width; k++) {
      const a = list[base + k]!, b = words[k]!;
      if (a !== b) return a < b ? -1 : 1;
    }
    return 0;
  }
}

/** First and last address of `range`, as `width` words each. */
function span(range: CidrRange, width: number): [number[], number[]] {
  const start = range.words.slice(0, width);
  const end = start.map((w, i) => {
    const bits = range.prefixLength - i * 32;
    if (bits >= 32) return w;
    if (bits <= 0) return 0xffffffff;
    return (w | (0xffffffff >>> bits)) >>> 0;
  });
  return [start, end];
}

function compareWords(a: readonly number[], b: readonly number[]): number {
  for (let k = 0; k < a.length; k++) {
    if (a[k] !== b[k]) return a[k]! < b[k]! ? -1 : 1;
  }
  return 0;
}
