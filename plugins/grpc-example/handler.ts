/**
 * The example plugin's logic, as a pure function from ConnectRequest to ConnectResponse
 * (docs/plugins.md §1 "Data model"): username `deny` (any case) is denied; an SNI containing
 * `grpc` is sent to play.example.com:5520; every answer carries the referral content
 * `grpc-plugin`.
 */

/** The parts of a ConnectRequest this plugin reads; everything else is ignored. */
export interface ConnectRequest {
  readonly event?: { readonly sni?: unknown; readonly username?: unknown } | null;
}

/** The ConnectResponse fields this plugin sets (all optional on the wire). */
export interface ConnectResponse {
  deny?: boolean;
  deny_reason?: string;
  backend?: { host: string; port: number };
  referral_content: string;
}

/** base64 of the bytes `grpc-plugin`. */
export const REFERRAL_CONTENT = btoa("grpc-plugin");

/** Decides one connection. */
export function onConnect(request: ConnectRequest): ConnectResponse {
  const username = typeof request.event?.username === "string" ? request.event.username : "";
  const sni = typeof request.event?.sni === "string" ? request.event.sni : "";
  if (username.toLowerCase() === "deny") {
    return { deny: true, deny_reason: "denied by grpc plugin", referral_content: REFERRAL_CONTENT };
  }
  if (sni.includes("grpc")) {
    return {
      backend: { host: "play.example.com", port: 5520 },
      referral_content: REFERRAL_CONTENT,
    };
  }
  return { referral_content: REFERRAL_CONTENT };
}
