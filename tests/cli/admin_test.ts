/** `start`'s admin side: disabled by `admin.listen: ""`, readiness following the router. */
import { assert, assertEquals } from "../support/assert.ts";
import { AdminEndpoint } from "../../src/cli/admin.ts";
import { parseConfig } from "../../src/config/mod.ts";
import { silentLogger } from "../support/logger.ts";

const BASE = `
listen: "127.0.0.1:0"
routing:
  default: { strategy: round_robin, backends: [{ host: a.internal, port: 5520 }] }
`;

Deno.test('admin.listen "" binds nothing; metrics and readiness still work', async () => {
  const config = parseConfig(`${BASE}admin: { listen: "" }\n`, "c.yaml");
  assertEquals(config.admin.listen, null);
  const admin = AdminEndpoint.open(config, silentLogger());
  assertEquals(admin.address, null);
  admin.metrics.connectionAccepted();
  assert((await admin.metrics.render()).includes("gatehouse_connections_accepted_total 1"));
  await admin.close();
});

Deno.test("readiness follows the router: starting 503, serving 200, stopping 503", async () => {
  const config = parseConfig(`${BASE}admin: { listen: "127.0.0.1:0" }\n`, "c.yaml");
  const admin = AdminEndpoint.open(config, silentLogger());
  try {
    const url = `http://127.0.0.1:${admin.address!.port}/readyz`;
    const status = async () => {
      const r = await fetch(url);
      return [r.status, await r.text()] as const;
    };
    assertEquals(await status(), [
      503,
      "not ready\nfailed listening: not bound yet\nfailed plugins_loaded: loading 0\n",
    ]);
    admin.serving();
    assertEquals(await status(), [200, "ready\nok listening: bound\nok plugins_loaded: 0\n"]);
    admin.stopping();
    assertEquals((await status())[0], 503);
  } finally {
    await admin.close();
  }
});

Deno.test("readiness: one discovery_<name> check per provider, replaced on reload", async () => {
  const config = parseConfig(`${BASE}admin: { listen: "127.0.0.1:0" }\n`, "c.yaml");
  const admin = AdminEndpoint.open(config, silentLogger());
  try {
    const url = `http://127.0.0.1:${admin.address!.port}/readyz`;
    const body = async () => await (await fetch(url)).text();
    const synced = new Map<string, boolean>([["k8s", false], ["fleet", true]]);
    admin.discoveryChecks(["k8s", "fleet"], (name) => synced.get(name) ?? null);
    admin.serving();
    assertEquals(
      await body(),
      "not ready\nok listening: bound\nok plugins_loaded: 0\n" +
        "failed discovery_k8s: not synced yet\nok discovery_fleet: synced\n",
    );
    synced.set("k8s", true);
    assert((await body()).startsWith("ready\n"));
    // A reload dropped "fleet" and added "pods" (not in the served config yet: null).
    admin.discoveryChecks(["k8s", "pods"], (name) => synced.get(name) ?? null);
    assertEquals(
      await body(),
      "not ready\nok listening: bound\nok plugins_loaded: 0\n" +
        "ok discovery_k8s: synced\nfailed discovery_pods: not synced yet\n",
    );
  } finally {
    await admin.close();
  }
});
