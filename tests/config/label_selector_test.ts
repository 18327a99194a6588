import assert from "node:assert/strict";
import { parseAnnotationSelector, parseLabelSelector } from "../../src/config/label_selector.ts";

// Expected requirements are written out by hand from the Kubernetes selector documentation.
const accepted: ReadonlyArray<readonly [string, unknown]> = [
  ["", []],
  ["app=game", [{ op: "in", key: "app", values: ["game"] }]],
  ["app==game", [{ op: "in", key: "app", values: ["game"] }]],
  ["app!=game", [{ op: "not_in", key: "app", values: ["game"] }]],
  ["app=", [{ op: "in", key: "app", values: [""] }]],
  ["app", [{ op: "exists", key: "app" }]],
  ["!app", [{ op: "not_exists", key: "app" }]],
  ["  ! app  ", [{ op: "not_exists", key: "app" }]],
  ["region in (eu, us)", [{ op: "in", key: "region", values: ["eu", "us"] }]],
  ["region notin (eu,,us)", [{ op: "not_in", key: "region", values: ["eu", "", "us"] }]],
  ["region in ()", [{ op: "in", key: "region", values: [""] }]],
  ["slots>3,slots<-1", [{ op: "gt", key: "slots", value: 3 }, {
    op: "lt",
    key: "slots",
    value: -1,
  }]],
  ["agones.dev/fleet=hytale", [{ op: "in", key: "agones.dev/fleet", values: ["hytale"] }]],
  ["in=notin", [{ op: "in", key: "in", values: ["notin"] }]],
  [
    "app=game,region in (eu,us),!legacy,tier",
    [
      { op: "in", key: "app", values: ["game"] },
      { op: "in", key: "region", values: ["eu", "us"] },
      { op: "not_exists", key: "legacy" },
      { op: "exists", key: "tier" },
    ],
  ],
];

for (const [text, expected] of accepted) {
  Deno.test(`label selector ${JSON.stringify(text)} parses`, () => {
    const result = parseLabelSelector(text);
    assert.deepEqual(result, { ok: true, requirements: expected });
  });
}

// [selector, offset of the offending character, a word the message must contain]
const rejected: ReadonlyArray<readonly [string, number, string]> = [
  ["app=game,", 9, "end of string"],
  ["app=game region=eu", 9, "','"],
  ["app in eu", 7, "'('"],
  ["app in (eu", 10, "end of string"],
  ["app in (eu us)", 11, "',' or ')'"],
  ["app >= 3", 5, "'='"],
  ["app > x", 6, "integer"],
  ["app ~ 3", 4, "'~'"],
  ["=game", 0, "label key"],
  ["!", 1, "label key"],
  ["!app=game", 4, "','"],
  ["-app=game", 0, "label key"],
  ["Bad_Prefix/app=x", 0, "DNS subdomain"],
  ["example.com/-app=x", 12, "label key"],
  ["app=-x", 4, "label value"],
  [`app=${"x".repeat(64)}`, 4, "label value"],
  ["a/b/c=x", 2, "label key"],
];

for (const [text, offset, word] of rejected) {
  Deno.test(`label selector ${JSON.stringify(text)} is refused at offset ${offset}`, () => {
    const result = parseLabelSelector(text);
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.equal(result.problem.offset, offset, result.problem.detail);
    assert.ok(result.problem.detail.includes(word), result.problem.detail);
  });
}

Deno.test("annotation selector: k=v pairs, trimmed, blank items skipped", () => {
  assert.deepEqual(parseAnnotationSelector(" hyrouter/enabled = true ,, team=a=b "), {
    ok: true,
    requirements: [{ key: "hyrouter/enabled", value: "true" }, { key: "team", value: "a=b" }],
  });
});

Deno.test("annotation selector: an item without key or value is refused where it starts", () => {
  for (const [text, offset] of [["a=b, c", 5], ["a=b,=x", 4], ["a=", 0]] as const) {
    const result = parseAnnotationSelector(text);
    assert.equal(result.ok, false, text);
    if (!result.ok) assert.equal(result.problem.offset, offset, text);
  }
});
