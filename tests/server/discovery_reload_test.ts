/**
 * Reloads of a config with discovery providers: new providers must sync before the swap (else
 * the reload is refused and the running providers keep serving); the old ones are closed once
 * retired.
 */
import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/mod.ts";
import type { ResourceSource, SourceOpener, WatchRequest } from "../../src/discovery/mod.ts";
import { GatehouseServer } from "../../src/server/mod.ts";
import { parseClientReferral } from "../support/hytale_client_codec.ts";
import { silentLogger } from "../support/logger.ts";
import { askConnect } from "../support/router_harness.ts";
import { NO_ALLOCATIONS } from "../discovery/fake_sources.ts";
import podJson from "../fixtures/discovery/pod.json" with { type: "json" };

const config = (namespace: string, mode = "union") =>
  parseConfig(
    `
listen: "127.0.0.1:0"
discovery:
  providers:
    - name: k8s
      type: kubernetes
      kubernetes: { namespaces: [${namespace}], resources: [ { kind: pods, port: { name: game } } ] }
routing:
  default:
    strategy: round_robin
    backends: [ { host: static.example, port: 5520 } ]
    discovery: { provider: k8s, mode: ${mode} }
`,
    `${namespace}.yaml`,
  );

/** Pods by namespace; a namespace missing here never syncs. Records every source it opens. */
function fleet(pods: Record<string, string>) {
  const opened: { path: string; source: ResourceSource<unknown>; closed: boolean }[] = [];
  const open: SourceOpener = () =>
    Promise.resolve({
      open: <T>(request: WatchRequest): ResourceSource<T> => {
        const ns = request.path.split("/")[4] ?? "";
        const ip = pods[ns];
        const pod = structuredClone(podJson);
        if (ip !== undefined) pod.status.podIP = ip;
        const entry = {
          path: request.path,
          closed: false,
          source: {
            synced: ip !== undefined,
            restarts: 0,
            items: () => (ip === undefined ? [] : [pod]) as T[],
            close: () => void (entry.closed = true),
          },
        };
        opened.push(entry);
        queueMicrotask(request.onChange);
        return entry.source as ResourceSource<T>;
      },
      createAllocation: NO_ALLOCATIONS,
      close: () => {},
    });
  return { open, opened };
}

async function referredHost(port: number): Promise<string> {
  return parseClientReferral((await askConnect(port, "play.example.com", "steve")).payload).host;
}

Deno.test("discovery reload: new providers sync before the swap; old ones close when retired", async () => {
  const f = fleet({ blue: "10.0.0.1", green: "10.0.0.2" });
  const server = await GatehouseServer.start(config("blue"), {
    logger: silentLogger(),
    discoverySources: f.open,
  });
  try {
    assert.equal(await referredHost(server.addr.port), "10.0.0.1");
    const result = await server.reload(config("green", "prefer"));
    assert.ok(result.ok, JSON.stringify(result));
    assert.deepEqual(result.discovery, { reused: [], started: ["k8s"] });
    assert.equal(await referredHost(server.addr.port), "10.0.0.2");
    await result.retired;
    assert.deepEqual(
      f.opened.map((o) => [o.path.split("/")[4], o.closed]),
      [["blue", true], ["green", false]],
    );
  } finally {
    await server.close(1_000);
  }
});

Deno.test("discovery reload: providers that do not sync in time refuse the reload; the old ones serve", async () => {
  const f = fleet({ blue: "10.0.0.1" }); // "never" has no pods: it never syncs
  const server = await GatehouseServer.start(config("blue"), {
    logger: silentLogger(),
    discoverySources: f.open,
  });
  try {
    const result = await server.reload(config("never"));
    assert.ok(!result.ok);
    assert.match(result.errors.join("\n"), /discovery providers not synced within \d+ ms: k8s/);
    assert.equal(await referredHost(server.addr.port), "10.0.0.1");
    assert.deepEqual(f.opened.map((o) => o.closed), [false, true], "the attempt's watch closed");
  } finally {
    await server.close(1_000);
  }
});

Deno.test("discovery reload: an unchanged provider keeps running across reloads; routing changes apply", async () => {
  const f = fleet({ blue: "10.0.0.1", green: "10.0.0.2" });
  const server = await GatehouseServer.start(config("blue", "union"), {
    logger: silentLogger(),
    discoverySources: f.open,
  });
  try {
    // union + round_robin alternates pod and static backend; prefer keeps to the pod.
    const union = [await referredHost(server.addr.port), await referredHost(server.addr.port)];
    assert.deepEqual(union.sort(), ["10.0.0.1", "static.example"]);
    const result = await server.reload(config("blue", "prefer"));
    assert.ok(result.ok, JSON.stringify(result));
    assert.deepEqual(result.discovery, { reused: ["k8s"], started: [] });
    for (let i = 0; i < 3; i++) assert.equal(await referredHost(server.addr.port), "10.0.0.1");
    await result.retired;
    assert.deepEqual(f.opened.map((o) => o.closed), [false], "one watch, never restarted");
    // Changing the provider's settings afterwards starts a new one and retires the shared one.
    const changed = await server.reload(config("green"));
    assert.ok(changed.ok, JSON.stringify(changed));
    assert.deepEqual(changed.discovery, { reused: [], started: ["k8s"] });
    await changed.retired;
    assert.deepEqual(f.opened.map((o) => o.closed), [true, false]);
  } finally {
    await server.close(1_000);
  }
  assert.deepEqual(f.opened.map((o) => o.closed), [true, true], "closed with the server");
});
