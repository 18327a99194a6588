/**
 * The one-file build (`deno task bundle` → dist/gatehouse.js), copied alone into an empty
 * directory and started with the launcher's flags and no deno.json: its `start` runs itself as
 * the sandboxed router, which answers a Connect with a ClientReferral carrying a WASM plugin's
 * content (so the inlined plugin worker runs too).
 */
import { assertEquals } from "../support/assert.ts";
import { parseClientReferral, parseEnvelope } from "../support/hytale_client_codec.ts";
import { askConnect } from "../support/router_harness.ts";
import { commandLine, onlyChildPid, startRouterProcess } from "../support/process_router.ts";
import { testRequiring } from "../support/requires.ts";
import { BUNDLE_BUILT, bundleDir, LAUNCHER_FLAGS } from "../support/bundle.ts";

testRequiring(
  BUNDLE_BUILT,
  "bundle: dist/gatehouse.js alone starts a sandboxed router that refers a client",
  async () => {
    const dir = await bundleDir("gatehouse-bundle-");
    const content = btoa("from the bundle");
    await Deno.writeTextFile(
      `${dir}/config.yaml`,
      `listen: "127.0.0.1:0"
admin: { listen: "" }
routing: { default: { strategy: round_robin, backends: [{ host: b.internal, port: 5521 }] } }
plugins:
  - { name: echo, type: wasm, stage: mutate, timeout: 2s, wasm: { path: echo.wasm, config: { referral_content: "${content}" } } }
`,
    );
    const router = await startRouterProcess(
      [
        "run",
        ...LAUNCHER_FLAGS,
        "gatehouse.js",
        "start",
        "--config",
        "config.yaml",
        "--log-format",
        "json",
      ],
      dir,
    );
    try {
      const reply = await askConnect(router.port, "play.example.com", "Krymo");
      const referral = parseClientReferral(reply.payload);
      assertEquals([referral.host, referral.port], ["b.internal", 5521]);
      assertEquals(
        new TextDecoder().decode(parseEnvelope(referral.data!).content),
        "from the bundle",
      );
      const cmd = await commandLine(await onlyChildPid(router.pid));
      assertEquals(cmd.slice(cmd.indexOf("serve") - 1, cmd.indexOf("serve") + 1), [
        `${dir}/gatehouse.js`,
        "serve",
      ]);
      assertEquals(
        cmd.find((a) => a.startsWith("--allow-read=")),
        `--allow-read=${dir},${dir}/echo.wasm`,
      );
    } finally {
      const code = await router.stop("SIGTERM");
      await Deno.remove(dir, { recursive: true });
      assertEquals(code, 0);
    }
  },
);
