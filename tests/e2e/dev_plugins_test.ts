/**
 * The dev plugin setup end to end — what `deno task run:plugins` runs: the router started by
 * `start` (sandboxed, exact grants) on `dev/config.plugins.dev.yaml` with the three plugin
 * kinds: the gRPC example (its own process) denies, the process example (supervised by the
 * router) denies the players of its ban list and pushes the lobby pool's backends, the WASM
 * example mutates.
 */
import { assert, assertEquals } from "../support/assert.ts";
import {
  parseClientReferral,
  parseDisconnect,
  parseEnvelope,
} from "../support/hytale_client_codec.ts";
import { askConnect } from "../support/router_harness.ts";
import { startRouterProcess } from "../support/process_router.ts";
import { freePort, startExampleServer } from "../plugins/grpc/peers.ts";
import { testRequiring } from "../support/requires.ts";
import { startTaskFlags } from "../support/start_task.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const WASM = `${ROOT}plugins/wasm-example/plugin.wasm`;
const built = await Deno.stat(WASM).then(() => true, () => false);
const devConfig = await Deno.readTextFile(`${ROOT}dev/config.plugins.dev.yaml`);

/**
 * The dev config in `dir` with loopback addresses: the process example's module by absolute
 * path, while `./bans.txt` stays relative (copied beside it): the plugin runs in the config's
 * folder, so its `config` paths mean what they mean in the file.
 */
async function configIn(dir: string, grpcAddress: string, adminPort: number): Promise<string> {
  await Deno.copyFile(`${ROOT}dev/bans.txt`, `${dir}/bans.txt`);
  const text = devConfig
    .replace(
      'listen: ":5520"',
      `listen: "127.0.0.1:0"\nadmin: { listen: "127.0.0.1:${adminPort}" }`,
    )
    .replace("address: 127.0.0.1:7777", `address: ${grpcAddress}`)
    .replace("module: ../plugins/", `module: ${ROOT}plugins/`)
    .replace("path: plugins/wasm-example/", `path: ${ROOT}plugins/wasm-example/`);
  const path = `${dir}/config.plugins.yaml`;
  await Deno.writeTextFile(path, text);
  return path;
}

async function metric(adminPort: number, series: string): Promise<number | null> {
  const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? null : Number(line.slice(series.length + 1));
}

testRequiring(
  { available: built, install: "deno task plugin:wasm:build" },
  "dev plugin config: gRPC and process examples deny, the process example pushes, WASM mutates",
  async () => {
    const grpc = await startExampleServer();
    const dir = await Deno.makeTempDir({ prefix: "gatehouse-dev-plugins-" });
    const adminPort = freePort();
    const config = await configIn(dir, grpc.address, adminPort);
    const router = await startRouterProcess(
      ["run", ...await startTaskFlags(), "src/cli/main.ts", "start", "--config", config],
      ROOT,
    );
    try {
      const ask = (sni: string, username: string) => askConnect(router.port, sni, username);
      const denied = await ask("play.example.com", "DENY");
      assertEquals(parseDisconnect(denied.payload).reason, "denied by grpc plugin");
      const banned = await ask("play.example.com", "Griefer");
      assertEquals(parseDisconnect(banned.payload).reason, "banned by the process plugin");
      const referral = parseClientReferral((await ask("play.example.com", "Krymo")).payload);
      assertEquals([referral.host, referral.port], ["play.example.com", 5520]);
      assertEquals(new TextDecoder().decode(parseEnvelope(referral.data!).content), "wasm-plugin");
      // The lobby pool routes to what the process plugin pushed (the WASM example then rewrites
      // every referral's host, so the pool is read from /metrics).
      assertEquals(await metric(adminPort, 'gatehouse_discovery_backends{provider="lobbies"}'), 2);
      assertEquals(await metric(adminPort, 'gatehouse_discovery_synced{provider="lobbies"}'), 1);
      assertEquals(await metric(adminPort, 'gatehouse_discovery_pushes{provider="lobbies"}'), 1);
      assertEquals((await ask("lobby.example.com", "Krymo")).id, 18);
    } finally {
      const code = await router.stop("SIGTERM");
      await grpc.stop("SIGTERM");
      await Deno.remove(dir, { recursive: true });
      assert(code === 0 || code === 143, `router exit code ${code}\n${router.lines.join("\n")}`);
    }
  },
);
