import { ConfigError } from "./errors.ts";

// Nanoseconds per unit, as in Go's time package (both micro signs are accepted).
const UNITS: ReadonlyMap<string, bigint> = new Map([
  ["ns", 1n],
  ["us", 1_000n],
  ["\u00b5s", 1_000n],
  ["\u03bcs", 1_000n],
  ["ms", 1_000_000n],
  ["s", 1_000_000_000n],
  ["m", 60_000_000_000n],
  ["h", 3_600_000_000_000n],
]);
const MAX_NANOS = (1n << 63n) - 1n;

export { MAX_TIMER_MS } from "../timing/mod.ts";
const COMPONENT = /([0-9]*)(?:\.([0-9]*))?([^0-9.]*)/y;

/**
 * Parses a Go duration string (`time.ParseDuration` semantics) into milliseconds: an optional
 * sign, then one or more `<number><unit>` parts (`1h30m`, `1.5s`, `.5ms`), units ns, us/µs, ms,
 * s, m, h; `0` alone needs no unit. The result may be fractional (`1ns` = 0.000001).
 *
 * @throws {ConfigError} code `invalid` for anything Go would reject (`5`, `5x`, `""`, overflow
 *   past about 292 years).
 */
export function parseDuration(text: string): number {
  const body = /^[-+]/.test(text) ? text.slice(1) : text;
  const negative = text.startsWith("-");
  if (body === "0") return 0;
  if (body === "") throw invalid(text, "invalid duration");
  let nanos = 0n;
  for (let at = 0; at < body.length;) {
    COMPONENT.lastIndex = at;
    const [whole = "", int = "", frac, unitName = ""] = COMPONENT.exec(body) ?? [];
    at += whole.length;
    if (int === "" && !frac) throw invalid(text, "invalid duration");
    if (unitName === "") throw invalid(text, "missing unit in duration");
    const unit = UNITS.get(unitName);
    if (unit === undefined) throw invalid(text, `unknown unit "${unitName}" in duration`);
    nanos += BigInt(int || "0") * unit + fractionNanos(frac ?? "", unit);
    if (nanos > MAX_NANOS + (negative ? 1n : 0n)) throw invalid(text, "invalid duration");
  }
  const ms = Number(nanos) / 1_000_000;
  return negative ? -ms : ms;
}

function fractionNanos(digits: string, unit: bigint): bigint {
  if (digits === "") return 0n;
  return BigInt(digits) * unit / 10n ** BigInt(digits.length);
}

function invalid(text: string, what: string): ConfigError {
  return new ConfigError({ code: "invalid", detail: `${what} ${JSON.stringify(text)}` });
}
