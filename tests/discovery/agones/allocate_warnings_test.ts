import assert from "node:assert/strict";
import { parseConfig } from "../../../src/config/mod.ts";
import { allocationWarnings } from "../../../src/discovery/mod.ts";

const PROVIDERS = `
discovery:
  providers:
    - { name: matches, type: agones, agones: { mode: allocate } }
    - { name: fleet, type: agones, agones: { mode: observe } }
`;

Deno.test("allocation warnings: static backends in union mode and filters on an allocate pool", () => {
  const config = parseConfig(
    PROVIDERS + `
routing:
  routes:
    - match: { hostname: a.example }
      pool:
        strategy: round_robin
        backends: [ { host: lobby, port: 5520 } ]
        discovery: { provider: matches }
    - match: { hostname: b.example }
      pool:
        strategy: round_robin
        backends: [ { host: lobby, port: 5520 } ]
        discovery: { provider: matches, mode: prefer }
        filters: [ { type: compare, left: counter:players.count, op: lt, right: counter:players.capacity } ]
    - match: { hostname: c.example }
      pool:
        strategy: round_robin
        backends: [ { host: lobby, port: 5520 } ]
        discovery: { provider: fleet }
  default: { strategy: random, discovery: { provider: matches, mode: prefer } }
`,
    "w.yaml",
  );
  const warnings = allocationWarnings(config);
  assert.equal(warnings.length, 2, warnings.join("\n"));
  assert.match(
    warnings[0]!,
    /^routing\.routes\[0\]\.pool: allocate provider "matches" with static backends in union mode: .*use mode: prefer/,
  );
  assert.match(
    warnings[1]!,
    /^routing\.routes\[1\]\.pool: allocate provider "matches" with filters: .*left unused/,
  );
});

Deno.test("allocation warnings: none without allocate providers", () => {
  const config = parseConfig(
    PROVIDERS.replace("mode: allocate", "mode: observe") +
      "routing:\n  default: { strategy: random, backends: [ { host: a, port: 1 } ], discovery: { provider: matches } }\n",
    "w.yaml",
  );
  assert.deepEqual(allocationWarnings(config), []);
});
