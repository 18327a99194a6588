import type { ListenAddress } from "./types.ts";

/** A parsed `host:port`, or why it is not one. */
export type ParsedAddress =
  | { readonly ok: true; readonly address: ListenAddress }
  | { readonly ok: false; readonly problem: string };

/** What an empty host (`":5520"`) binds to: `::` is dual-stack (IPv4 too), as Go binds it. */
export const ALL_INTERFACES = "::";

const IPV4 =
  /^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$/;
const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?$/;

/**
 * Parses a listen address the way Go's `net.SplitHostPort` splits it: `":5520"` (all
 * interfaces), `"127.0.0.1:5520"`, `"[::1]:5520"`, `"localhost:5520"`. The port must be numeric
 * (0 = any free port); IPv6 hosts need brackets.
 */
export function parseListenAddress(text: string): ParsedAddress {
  const split = splitHostPort(text);
  if (typeof split === "string") return { ok: false, problem: split };
  const [host, portText] = split;
  if (!/^[0-9]{1,5}$/.test(portText) || Number(portText) > 65535) {
    return {
      ok: false,
      problem: `port ${JSON.stringify(portText)} is not a number from 0 to 65535`,
    };
  }
  const hostProblem = checkHost(host, text.startsWith("["));
  if (hostProblem !== null) return { ok: false, problem: hostProblem };
  return {
    ok: true,
    address: { hostname: host === "" ? ALL_INTERFACES : host, port: Number(portText) },
  };
}

function splitHostPort(text: string): [string, string] | string {
  const colon = text.lastIndexOf(":");
  if (colon < 0) return 'missing port (expected "host:port" or ":port")';
  const port = text.slice(colon + 1);
  if (text.startsWith("[")) {
    if (!text.slice(0, colon).endsWith("]")) return 'missing "]" or port after an IPv6 address';
    return [text.slice(1, colon - 1), port];
  }
  const host = text.slice(0, colon);
  if (host.includes(":")) return "too many colons (write IPv6 addresses in brackets: [::1]:5520)";
  return [host, port];
}

function checkHost(host: string, bracketed: boolean): string | null {
  if (bracketed) return isIpv6(host) ? null : `"${host}" is not an IPv6 address`;
  if (host === "" || IPV4.test(host)) return null;
  if (/^[0-9.]+$/.test(host)) return `"${host}" is not an IPv4 address`;
  const labels = host.replace(/\.$/, "").split(".");
  if (host.length <= 253 && labels.every((l) => LABEL.test(l))) return null;
  return `"${host}" is not an IP address or host name`;
}

function isIpv6(host: string): boolean {
  if (!/^[0-9A-Fa-f:.]+$/.test(host) || !host.includes(":")) return false;
  try {
    new URL(`http://[${host}]/`);
    return true;
  } catch {
    return false;
  }
}
