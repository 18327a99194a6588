/** Hytale packet ids the router knows (docs/protocol.md §2 "Framing"). */
export const PacketId = {
  /** Client → router: the first packet on the bidirectional stream. */
  Connect: 0,
  /** Router → client: refuse the connection with a (possibly empty) reason. */
  Disconnect: 1,
  Ping: 2,
  Pong: 3,
  ConnectAccept: 14,
  /** Router → client: go to this backend, carrying the referral envelope. */
  ClientReferral: 18,
} as const;

/** One of the known packet ids. */
export type KnownPacketId = typeof PacketId[keyof typeof PacketId];

const NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(PacketId).map(([name, id]) => [id, name]),
);

/** The packet's name for logs, e.g. `Connect`; `unknown` for ids the router does not know. */
export function packetName(id: number): string {
  return NAMES.get(id) ?? "unknown";
}
