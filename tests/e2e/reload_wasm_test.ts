/** Live reload with the real WASM host: an unchanged plugin keeps running, a changed one is swapped. */
import { assert, assertEquals } from "../support/assert.ts";
import { parseClientReferral, parseEnvelope } from "../support/hytale_client_codec.ts";
import { askConnect } from "../support/router_harness.ts";
import { silentLogger } from "../support/logger.ts";
import { fixture } from "../plugins/wasm/support.ts";
import { parseConfig } from "../../src/config/mod.ts";
import { GatehouseServer } from "../../src/server/mod.ts";

/** A config whose `config_echo` WASM plugin answers with `content` as referral content. */
const config = (path: string, content: string) => `
listen: "127.0.0.1:0"
routing:
  default: { strategy: round_robin, backends: [{ host: a.internal, port: 5520 }] }
plugins:
  - name: echo
    type: wasm
    stage: mutate
    wasm: { path: "${path}", config: { referral_content: "${btoa(content)}" } }
`;

async function content(server: GatehouseServer): Promise<string> {
  const reply = await askConnect(server.addr.port, "play.example.com", "Krymo");
  return new TextDecoder().decode(parseEnvelope(parseClientReferral(reply.payload).data!).content);
}

Deno.test("reloading a WASM plugin: same settings reuse it, new settings load a new instance", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/echo.wasm`;
  await Deno.writeFile(path, await fixture("config_echo"));
  const server = await GatehouseServer.start(parseConfig(config(path, "one"), "a.yaml"), {
    logger: silentLogger(),
  });
  try {
    assertEquals(await content(server), "one");
    const same = await server.reload(parseConfig(config(path, "one"), "a.yaml"));
    assert(same.ok && same.plugins.reused.includes("echo"));
    assertEquals(await content(server), "one");
    const changed = await server.reload(parseConfig(config(path, "two"), "b.yaml"));
    assert(changed.ok && changed.plugins.loaded.includes("echo"));
    await changed.retired;
    assertEquals(await content(server), "two");
  } finally {
    await server.close(1_000);
    await Deno.remove(dir, { recursive: true });
  }
});
