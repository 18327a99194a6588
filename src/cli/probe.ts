import {
  decodeClientReferral,
  decodeDisconnect,
  encodeConnect,
  encodeFrame,
  FrameDecoder,
  openEnvelope,
  PacketId,
  parseHmacSecret,
} from "../protocol/mod.ts";
import { closeQuietly, TIMED_OUT, withinMs } from "../server/mod.ts";
import type { CommandIO } from "./check.ts";

/** Options of `probe`. */
export interface ProbeOptions {
  readonly hostname: string;
  readonly port: number;
  /** TLS server name to send; `""` sends none (as a client that dialled an IP address). */
  readonly sni: string;
  readonly username: string;
  readonly uuid: string;
  readonly language: string;
  readonly timeoutMs: number;
  /** Referral secret (raw / base64: / hex:) to verify the envelope's HMAC with. */
  readonly secret: string | null;
  readonly alpn: readonly string[];
}

/** What the probe prints, besides timing. */
type ProbeResult = { readonly outcome: string } & Record<string, unknown>;

/** Largest reply frame the probe accepts (a Disconnect reason may be long). */
const MAX_REPLY_PAYLOAD = 1 << 20;

/**
 * `probe`: connect as a Hytale client, send one Connect, print what came back as one JSON line
 * on stdout. Returns 0 when a ClientReferral or Disconnect arrived, 1 otherwise.
 */
export async function runProbe(options: ProbeOptions, io: CommandIO): Promise<number> {
  const started = performance.now();
  const elapsed = () => Math.round((performance.now() - started) * 100) / 100;
  let conn: Deno.QuicConn | null = null;
  const attempt = (async () => {
    conn = await connect(options);
    const frame = await exchange(conn, options);
    const result: ProbeResult = frame ? describe(frame, options.secret) : { outcome: "closed" };
    return { ...result, alpn: conn.protocol ?? null };
  })();
  try {
    const result = await withinMs(attempt, options.timeoutMs);
    if (result === TIMED_OUT) {
      io.out(JSON.stringify({ outcome: "timeout", ms: elapsed() }));
      return 1;
    }
    io.out(JSON.stringify({ ...result, ms: elapsed() }));
    return result.outcome === "referral" || result.outcome === "disconnect" ? 0 : 1;
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    io.out(JSON.stringify({ outcome: "error", error, ms: elapsed() }));
    return 1;
  } finally {
    const open = conn as Deno.QuicConn | null;
    if (open) closeQuietly(open);
  }
}

async function connect(options: ProbeOptions): Promise<Deno.QuicConn> {
  // An IP literal as serverName makes rustls send no SNI, like a client that dialled an IP.
  const serverName = options.sni === "" ? options.hostname : options.sni;
  return await Deno.connectQuic({
    hostname: options.hostname,
    port: options.port,
    serverName,
    alpnProtocols: [...options.alpn],
    // Bounds the handshake too: an unanswered connect gives up with the probe.
    maxIdleTimeout: options.timeoutMs,
  });
}

/** Sends the Connect and returns the first frame of the reply, or null if none came. */
async function exchange(
  conn: Deno.QuicConn,
  options: ProbeOptions,
): Promise<{ id: number; payload: Uint8Array } | null> {
  const stream = await conn.createBidirectionalStream();
  const writer = stream.writable.getWriter();
  const connect = encodeConnect({
    username: options.username,
    uuid: options.uuid,
    language: options.language,
  });
  await writer.write(encodeFrame(PacketId.Connect, connect));
  const decoder = new FrameDecoder(MAX_REPLY_PAYLOAD);
  for await (const chunk of stream.readable) {
    decoder.push(chunk);
    const frame = decoder.next();
    if (frame) return frame;
  }
  return null;
}

function describe(
  frame: { id: number; payload: Uint8Array },
  secret: string | null,
): ProbeResult {
  if (frame.id === PacketId.Disconnect) {
    return { outcome: "disconnect", reason: decodeDisconnect(frame.payload).reason };
  }
  if (frame.id !== PacketId.ClientReferral) {
    return { outcome: "unexpected_packet", packet_id: frame.id };
  }
  const referral = decodeClientReferral(frame.payload);
  const base = { outcome: "referral", host: referral.host, port: referral.port };
  if (!referral.data) return { ...base, envelope: null };
  const env = openEnvelope(referral.data, secret === null ? null : parseHmacSecret(secret));
  return {
    ...base,
    envelope: {
      key_id: env.keyId,
      signed: env.signed,
      valid: env.valid,
      content_base64: btoa(String.fromCharCode(...env.content)),
      content_text: new TextDecoder("utf-8", { fatal: false }).decode(env.content),
    },
  };
}
