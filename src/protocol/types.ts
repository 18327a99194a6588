/** A host and port as carried by the wire type HostAddress (`u16le port` · VarString host). */
export interface HostAddress {
  /** At most 256 UTF-8 bytes on the wire. */
  readonly host: string;
  /** u16. */
  readonly port: number;
}

/**
 * What the router extracts from a client's Connect packet (docs/protocol.md §4.4 "What the router
 * extracts").
 */
export interface ConnectEvent {
  /** Which layout decoded the payload. */
  readonly layout: "v1" | "v2";
  /** v1: the 64-char hex hash; v2: the client_version string. */
  readonly protocolHash: string;
  /** v2 only (0 for v1); signed i32 as on the wire. */
  readonly protocolCrc: number;
  /** v2 only (0 for v1); signed i32 as on the wire. */
  readonly protocolBuildNumber: number;
  /** v2 only (`""` for v1). */
  readonly clientVersion: string;
  /** u8. */
  readonly clientType: number;
  /** Lower-case `8-4-4-4-12`. */
  readonly uuid: string;
  /** `""` when absent (v1) or unreadable (v1). Always read in v2, where it is required. */
  readonly username: string;
  /** `""` when absent (v1) or unreadable (v1). Always read in v2, where it is required. */
  readonly language: string;
  /** Only presence is ever reported; the token itself is never kept. */
  readonly identityTokenPresent: boolean;
  /** Length of referral_data, 0 when absent or malformed. */
  readonly referralDataLength: number;
  /** The referral_source address, `null` when absent or malformed. */
  readonly referralSource: { readonly host: string; readonly port: number } | null;
}
