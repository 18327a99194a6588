import assert from "node:assert/strict";
import { parseConfig } from "../../../src/config/mod.ts";
import { matchesLabels } from "../../../src/discovery/kube/selector.ts";

function requirements(selector: string) {
  const text =
    `discovery:\n  providers:\n    - {name: a, type: agones, agones: {selector: {labels: ${
      JSON.stringify(selector)
    }}}}\n`;
  const p = parseConfig(text, "t.yaml").discovery.providers[0];
  if (p?.type !== "agones") throw new Error("agones");
  return p.agones.selector.labels;
}

// [selector, labels, expected] — semantics of Kubernetes' labels.Selector.Matches.
const cases: ReadonlyArray<readonly [string, Record<string, string>, boolean]> = [
  ["", {}, true],
  ["app=game", { app: "game" }, true],
  ["app=game", { app: "web" }, false],
  ["app=game", {}, false],
  ["app!=game", {}, true],
  ["app!=game", { app: "game" }, false],
  ["app", { app: "" }, true],
  ["!app", { app: "" }, false],
  ["!app", { other: "x" }, true],
  ["region in (eu,us)", { region: "us" }, true],
  ["region notin (eu,us)", { region: "ap" }, true],
  ["region notin (eu,us)", {}, true],
  ["app=", { app: "" }, true],
  ["slots>3", { slots: "4" }, true],
  ["slots>3", { slots: "3" }, false],
  ["slots<3", { slots: "x" }, false],
  ["slots<3", {}, false],
  ["app=game,region in (eu)", { app: "game", region: "us" }, false],
  ["constructor", {}, false],
];

for (const [selector, labels, expected] of cases) {
  Deno.test(`labels ${JSON.stringify(labels)} ${expected ? "match" : "do not match"} "${selector}"`, () => {
    assert.equal(matchesLabels(requirements(selector), labels), expected);
  });
}
