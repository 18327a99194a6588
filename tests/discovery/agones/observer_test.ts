import assert from "node:assert/strict";
import { AgonesObserver } from "../../../src/discovery/agones/observer.ts";
import gsJson from "../../fixtures/discovery/gameserver.json" with { type: "json" };
import { fakeFactory, hostPorts } from "../fake_sources.ts";
import { agonesSettings } from "../provider_config.ts";

Deno.test("agones observer: watches gameservers with the selector; snapshot follows state changes", () => {
  const { open, sources } = fakeFactory();
  const a = agonesSettings(
    '{ namespaces: [hytale], selector: { labels: "agones.dev/fleet=hytale" } }',
  );
  const provider = new AgonesObserver("fleet", a, open);
  assert.deepEqual(sources.map((s) => [s.request.path, s.request.labelSelector]), [
    ["/apis/agones.dev/v1/namespaces/hytale/gameservers", "agones.dev/fleet=hytale"],
  ]);
  sources[0]!.set([gsJson]);
  assert.equal(provider.ready(), true);
  assert.deepEqual(hostPorts(provider.snapshot()), ["node-eu-1.example.net:7403"]);
  const allocated = structuredClone(gsJson);
  allocated.status.state = "Allocated";
  sources[0]!.set([allocated]);
  assert.deepEqual(provider.snapshot(), [], "Allocated is not an allowed state by default");
});
