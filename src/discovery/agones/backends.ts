import type { AgonesDiscoveryConfig, Backend } from "../../config/mod.ts";
import { backend, copySelected, objectMeta, validPort, weightOf } from "../backend_meta.ts";
import type { GameServer, GameServerStatus, ObjectMeta } from "../kube/objects.ts";
import { matchesSelector } from "../kube/selector.ts";

/**
 * The backend an observed GameServer gives, or `null`: `Shutdown` and states not allowed are
 * skipped (states compare case-insensitively, as the Go router), as are objects outside the
 * configured namespaces, not matching the selector, or without an address or port.
 */
export function gameServerBackend(gs: GameServer, config: AgonesDiscoveryConfig): Backend | null {
  const state = gs.status?.state ?? "";
  const lower = state.trim().toLowerCase();
  if (lower === "shutdown" || !config.states.some((s) => s.toLowerCase() === lower)) return null;
  const ns = gs.metadata?.namespace ?? "";
  if (config.namespaces.length > 0 && !config.namespaces.includes(ns)) return null;
  if (!matchesSelector(config.selector, gs.metadata?.labels, gs.metadata?.annotations)) {
    return null;
  }
  const found = hostAndPort(gs.status, config);
  if (found === null) return null;
  const meta = objectMeta(gs.metadata);
  meta["gameserver.state"] = state;
  fleetMeta(meta, gs.status);
  copySelected(meta, gs.metadata, config.metadata);
  return backend(found.host, found.port, weightOf(gs.metadata), meta);
}

/**
 * The backend a created GameServerAllocation names (its `status` has the GameServer's address
 * and ports), or `null` when it names none (for example `status.state: UnAllocated`).
 */
export function allocationBackend(
  allocation: { readonly metadata?: ObjectMeta; readonly status?: GameServerStatus },
  namespace: string,
  config: AgonesDiscoveryConfig,
): Backend | null {
  const found = hostAndPort(allocation.status, config);
  if (found === null) return null;
  // The allocated GameServer's name; Agones also names the allocation after it.
  const name = allocation.status?.gameServerName ?? allocation.metadata?.name ?? "";
  const meta = objectMeta({ namespace, name: typeof name === "string" ? name : "" });
  return backend(found.host, found.port, 1, meta);
}

function hostAndPort(
  status: GameServerStatus | undefined,
  config: AgonesDiscoveryConfig,
): { host: string; port: number } | null {
  const host = status === undefined ? "" : hostOf(status, config.address);
  const port = status === undefined ? null : portOf(status, config.port);
  return host === "" || port === null ? null : { host, port };
}

/**
 * `address` source: `status.address`. `addresses`: the first preferred type present in
 * `status.addresses[]`, else the first listed, else `status.address`.
 */
function hostOf(status: GameServerStatus, address: AgonesDiscoveryConfig["address"]): string {
  const fallback = (status.address ?? "").trim();
  if (address.source === "address") return fallback;
  const byType = new Map<string, string>();
  for (const a of status.addresses ?? []) {
    const type = (a.type ?? "").trim();
    const value = (a.address ?? "").trim();
    // The last entry of a type wins, but the type keeps its first place in the order.
    if (type !== "" && value !== "") byType.set(type, value);
  }
  for (const type of address.preference) {
    const value = byType.get(type);
    if (value !== undefined) return value;
  }
  return byType.values().next().value ?? fallback;
}

/** `number`, else the port with the configured name, else (no name configured) the first. */
function portOf(status: GameServerStatus, port: AgonesDiscoveryConfig["port"]): number | null {
  if (port.number > 0) return port.number;
  for (const p of status.ports ?? []) {
    const n = typeof p.port === "string" ? goAtoi(p.port) : p.port ?? 0;
    if (!validPort(n)) continue;
    if (port.name === "" || p.name === port.name) return n;
  }
  return null;
}

function goAtoi(text: string): number {
  return /^[-+]?[0-9]+$/.test(text) ? Number(text) : 0;
}

/** `counter.<c>.count|capacity` and `list.<l>.values|capacity` from the Agones status. */
function fleetMeta(meta: Record<string, string>, status: GameServerStatus | undefined): void {
  for (const [name, c] of Object.entries(status?.counters ?? {})) {
    if (c === null || typeof c !== "object") continue;
    if (c.count !== undefined) meta[`counter.${name}.count`] = String(c.count);
    if (c.capacity !== undefined) meta[`counter.${name}.capacity`] = String(c.capacity);
  }
  for (const [name, l] of Object.entries(status?.lists ?? {})) {
    if (l === null || typeof l !== "object") continue;
    const values = (l.values ?? []).filter((v): v is string => typeof v === "string");
    if ((l.values ?? []).length > 0) meta[`list.${name}.values`] = goJson(values);
    if (l.capacity !== undefined) meta[`list.${name}.capacity`] = String(l.capacity);
  }
}

/** JSON as Go's `encoding/json` writes it: `<`, `>`, `&`, U+2028 and U+2029 escaped. */
function goJson(values: readonly string[]): string {
  return JSON.stringify(values).replace(
    /[<>&\u2028\u2029]/g,
    (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
