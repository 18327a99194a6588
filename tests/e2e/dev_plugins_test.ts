/**
 * The dev plugin setup end to end: the gRPC example (its own process) denies, the WASM example
 * mutates, behind the real router over QUIC — what `deno task run:plugins` runs.
 */
import { assertEquals } from "../support/assert.ts";
import {
  parseClientReferral,
  parseDisconnect,
  parseEnvelope,
} from "../support/hytale_client_codec.ts";
import { askConnect, startRouter } from "../support/router_harness.ts";
import { startExampleServer } from "../plugins/grpc/peers.ts";
import { testRequiring } from "../support/requires.ts";

const WASM = "plugins/wasm-example/plugin.wasm";
const built = await Deno.stat(WASM).then(() => true, () => false);
const devConfig = await Deno.readTextFile("dev/config.plugins.dev.yaml");

testRequiring(
  { available: built, install: "deno task plugin:wasm:build" },
  "dev plugin config: gRPC example denies, WASM example mutates",
  async () => {
    const grpc = await startExampleServer();
    const config = devConfig
      .replace('listen: ":5520"', 'listen: "127.0.0.1:0"')
      .replace("address: 127.0.0.1:7777", `address: ${grpc.address}`);
    const router = await startRouter(config);
    try {
      const ask = (username: string) => askConnect(router.port, "play.example.com", username);
      const denied = await ask("DENY");
      assertEquals(parseDisconnect(denied.payload).reason, "denied by grpc plugin");
      const referral = parseClientReferral((await ask("Krymo")).payload);
      assertEquals([referral.host, referral.port], ["play.example.com", 5520]);
      assertEquals(new TextDecoder().decode(parseEnvelope(referral.data!).content), "wasm-plugin");
    } finally {
      await router.close();
      await grpc.stop("SIGTERM");
    }
  },
);
