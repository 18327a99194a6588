/** The real WASM example plugin behind the real router, over QUIC. */
import { assertEquals } from "../support/assert.ts";
import {
  parseClientReferral,
  parseDisconnect,
  parseEnvelope,
} from "../support/hytale_client_codec.ts";
import { askConnect, startRouter } from "../support/router_harness.ts";
import { testRequiring } from "../support/requires.ts";

const PLUGIN = "plugins/wasm-example/plugin.wasm";
const built = await Deno.stat(PLUGIN).then(() => true, () => false);
const CONFIG = `
listen: "127.0.0.1:0"
routing:
  default: { strategy: round_robin, backends: [{ host: a.internal, port: 5520 }] }
plugins:
  - { name: mutate-wasm, type: wasm, stage: mutate, timeout: 500ms, wasm: { path: ${PLUGIN} } }
`;

testRequiring(
  { available: built, install: "deno task plugin:wasm:build" },
  "the WASM example re-routes, attaches content and denies through the pipeline",
  async () => {
    const router = await startRouter(CONFIG);
    try {
      const ask = (username: string) => askConnect(router.port, "play.example.com", username);
      const referral = parseClientReferral((await ask("Krymo")).payload);
      assertEquals([referral.host, referral.port], ["play.example.com", 5520]);
      assertEquals(new TextDecoder().decode(parseEnvelope(referral.data!).content), "wasm-plugin");
      const denied = await ask("deny");
      assertEquals(denied.id, 1);
      assertEquals(parseDisconnect(denied.payload).reason, "denied by wasm plugin");
    } finally {
      await router.close();
    }
  },
);
