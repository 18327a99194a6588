/**
 * The one-file build serves the operator dashboard: its page and assets are compiled in, so
 * dist/gatehouse.js alone (no source tree beside it) answers `/` and `/assets/*` byte for byte.
 */
import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { startRouterProcess } from "../support/process_router.ts";
import { testRequiring } from "../support/requires.ts";
import { BUNDLE_BUILT, bundleDir, LAUNCHER_FLAGS } from "../support/bundle.ts";
import { APP_JS } from "../../src/observability/dashboard/app_js.ts";
import { PAGE_HTML } from "../../src/observability/dashboard/page_html.ts";

testRequiring(BUNDLE_BUILT, "bundle: dist/gatehouse.js alone serves the dashboard", async () => {
  const dir = await bundleDir("gatehouse-bundle-dashboard-");
  await Deno.writeTextFile(`${dir}/admin.token`, "bundle-dashboard-token\n");
  await Deno.writeTextFile(
    `${dir}/config.yaml`,
    `listen: "127.0.0.1:0"
admin: { listen: "127.0.0.1:0", token_file: admin.token }
routing: { default: { strategy: round_robin, backends: [{ host: b.internal, port: 5521 }] } }
`,
  );
  const router = await startRouterProcess(
    ["run", ...LAUNCHER_FLAGS, "gatehouse.js", "start", "--config", "config.yaml"],
    dir,
  );
  try {
    const line = router.lines.find((l) => l.includes("admin endpoint")) ?? "";
    const port = /addr"?[=:]"?127\.0\.0\.1:(\d+)/.exec(line)?.[1];
    assertMatch(port ?? "", /^\d+$/, `no admin address in ${JSON.stringify(router.lines)}`);
    const base = `http://127.0.0.1:${port}`;
    for (const [path, body] of [["/", PAGE_HTML], ["/assets/app.js", APP_JS]] as const) {
      const response = await fetch(`${base}${path}`);
      assertEquals(response.status, 200, path);
      // Not printed whole when it differs: a stale dist/ is the usual cause.
      const served = await response.text();
      assert(served === body, `${path} differs from the source (rebuild: deno task bundle)`);
    }
    const status = await fetch(`${base}/api/v1/status`, {
      headers: { authorization: "Bearer bundle-dashboard-token" },
    });
    assertEquals(status.status, 200);
    await status.body?.cancel();
  } finally {
    await router.stop("SIGTERM");
    await Deno.remove(dir, { recursive: true });
  }
});
