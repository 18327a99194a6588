/**
 * The one-file build with a `wasm.isolation: process` plugin: copied alone into an empty
 * directory, its sandboxed router (granted run on Deno for this) starts the plugin's child as
 * the bundle itself with a hidden command, with no permissions at all (the worker is inlined),
 * and the child's answer reaches the client.
 */
import { assert, assertEquals } from "../support/assert.ts";
import { parseDisconnect } from "../support/hytale_client_codec.ts";
import { askConnect } from "../support/router_harness.ts";
import { commandLine, onlyChildPid, startRouterProcess } from "../support/process_router.ts";
import { testRequiring } from "../support/requires.ts";
import { BUNDLE_BUILT, bundleDir, LAUNCHER_FLAGS } from "../support/bundle.ts";

testRequiring(
  BUNDLE_BUILT,
  "bundle: a process-isolated WASM plugin runs in the bundle itself, with no permissions",
  async () => {
    const dir = await bundleDir("gatehouse-bundle-proc-");
    await Deno.writeTextFile(
      `${dir}/config.yaml`,
      `listen: "127.0.0.1:0"
admin: { listen: "" }
routing: { default: { strategy: round_robin, backends: [{ host: b.internal, port: 5521 }] } }
plugins:
  - name: echo
    type: wasm
    stage: deny
    timeout: 2s
    wasm: { path: echo.wasm, isolation: process, config: { deny: true, deny_reason: "from the bundle's child" } }
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
      assertEquals(parseDisconnect(reply.payload).reason, "from the bundle's child");
      const routerPid = await onlyChildPid(router.pid);
      assert((await commandLine(routerPid)).includes(`--allow-run=${Deno.execPath()}`));
      const child = await commandLine(await onlyChildPid(routerPid));
      assertEquals(child.slice(-2), [`${dir}/gatehouse.js`, "__wasm-process-child"]);
      assertEquals(child.filter((a) => a.startsWith("--allow") || a === "-A"), []);
      assert(child.includes("--no-config"), child.join(" "));
    } finally {
      const code = await router.stop("SIGTERM");
      await Deno.remove(dir, { recursive: true });
      assertEquals(code, 0);
    }
  },
);
