/**
 * A `start` launcher killed with SIGKILL cannot forward anything to its router; the router
 * notices its stdin (the launcher's lifeline) end and shuts down gracefully instead of running on
 * as an orphan.
 */
import { assert } from "../support/assert.ts";
import {
  endsWithin,
  isRunning,
  onlyChildPid,
  startRouterProcess,
} from "../support/process_router.ts";
import { startTaskFlags } from "../support/start_task.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

Deno.test("start: a router whose launcher is SIGKILLed stops by itself", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gatehouse-lifeline-" });
  const source = `${dir}/config.yaml`;
  await Deno.writeTextFile(
    source,
    `listen: "127.0.0.1:0"
admin: { listen: "" }
routing: { default: { strategy: round_robin, backends: [{ host: a.internal, port: 5520 }] } }
`,
  );
  const launcher = await startRouterProcess(
    [
      "run",
      ...await startTaskFlags(),
      "src/cli/main.ts",
      "start",
      "--config",
      source,
      "--log-format",
      "json",
    ],
    ROOT,
  );
  const router = await onlyChildPid(launcher.pid);
  try {
    assert(await isRunning(router), "the router runs");
    await launcher.stop("SIGKILL");
    // Polled: the router is not the test's child, so its end is no event the test could await.
    assert(await endsWithin(router, isRunning, 15_000), `router ${router} outlived its launcher`);
  } finally {
    if (await isRunning(router)) Deno.kill(router, "SIGKILL");
    await Deno.remove(dir, { recursive: true });
  }
});
