/**
 * A well-behaved player from a second loopback address, run by `admission_server_test.ts` as a
 * child process: binding 127.0.0.2 needs `--allow-net=127.0.0.2`, which the test task does not
 * grant (Linux routes all of 127.0.0.0/8 to loopback; the router sees 127.0.0.2 as the client).
 *
 *   deno run --unstable-net --allow-net=127.0.0.1,127.0.0.2 --unsafely-ignore-certificate-errors \
 *     second_address_client.ts PORT COUNT
 *
 * Sends COUNT Connects one after another from 127.0.0.2 to 127.0.0.1:PORT and prints one JSON line
 * per attempt: `{"n":0,"frame":18}` (the first reply frame's id; 18 is a ClientReferral) or
 * `{"n":0,"frame":null,"closeCode":80,"error":"…"}`.
 */
import { buildConnectV2, frame, splitFrames } from "../support/hytale_client_codec.ts";

const [portText = "", countText = "1"] = Deno.args;
const CONNECT = frame(
  0,
  buildConnectV2({ uuid: "00000000-0000-0000-0000-000000000002", username: "B", language: "en" }),
);

async function once(endpoint: Deno.QuicEndpoint, port: number): Promise<Record<string, unknown>> {
  const conn = await Deno.connectQuic({
    hostname: "127.0.0.1",
    port,
    serverName: "play.example.com",
    alpnProtocols: ["hytale/2"],
    endpoint,
    maxIdleTimeout: 5_000,
  });
  try {
    const stream = await conn.createBidirectionalStream();
    const writer = stream.writable.getWriter();
    await writer.write(CONNECT);
    const reader = stream.readable.getReader();
    let got = new Uint8Array();
    while (splitFrames(got).frames.length === 0) {
      const { value, done } = await reader.read();
      if (done) break;
      got = new Uint8Array([...got, ...value]);
    }
    return { frame: splitFrames(got).frames[0]?.id ?? null };
  } catch (err) {
    const info = await Promise.race([conn.closed, new Promise((r) => setTimeout(r, 1_000))]);
    const closeCode = (info as Deno.QuicCloseInfo | undefined)?.closeCode ?? null;
    return { frame: null, closeCode, error: String(err) };
  } finally {
    conn.close({ closeCode: 0, reason: "" });
  }
}

const endpoint = new Deno.QuicEndpoint({ hostname: "127.0.0.2", port: 0 });
for (let n = 0; n < Number(countText); n++) {
  const result = await once(endpoint, Number(portText)).catch((err) => ({
    frame: null,
    error: String(err),
  }));
  console.log(JSON.stringify({ n, ...result }));
}
endpoint.close({ closeCode: 0, reason: "" });
