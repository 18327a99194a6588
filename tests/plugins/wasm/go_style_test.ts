import assert from "node:assert/strict";
import { PluginError } from "../../../src/plugins/transport.ts";
import { captureLogger, fixture, load, req, text } from "./support.ts";

const goStyle = await fixture("go_style");

Deno.test("go-style reactor: _initialize runs exactly once per instance, then calls work", async () => {
  // The fixture traps if _initialize runs twice, and every export traps before it ran.
  const p = await load("go", goStyle, { instances: 3 });
  try {
    const answers = await Promise.all([1, 2, 3, 4, 5, 6].map(() => p.call(req("{}"), 1000)));
    for (const a of answers) assert.equal(text(a), '{"referral_data":"Z28tc3R5bGU="}');
  } finally {
    await p.close();
  }
});

Deno.test("go-style reactor: a runtime crash logs its message via fd_write and traps", async () => {
  const { logger, lines } = captureLogger();
  const p = await load("go", goStyle, { logger });
  try {
    const e = await p.call(req("X"), 1000).catch((e) => e);
    assert.ok(e instanceof PluginError);
    assert.equal(e.kind, "trap");
    const logged = lines.map((l) => JSON.parse(l));
    assert.ok(
      logged.some((l) =>
        l.msg === "fatal error: out of luck" && l.source === "stderr" && l.plugin === "go"
      ),
      lines.join("\n"),
    );
    assert.equal(text(await p.call(req("{}"), 1000)), '{"referral_data":"Z28tc3R5bGU="}');
  } finally {
    await p.close();
  }
});

Deno.test("go-style reactor: an alloc that never frees is recycled at max_memory", async () => {
  // 4 pages of cap, 2 used at start; each 40 KiB request is kept forever.
  const p = await load("go", goStyle, { maxMemoryBytes: 4 * 65536, instances: 1 });
  const request = req(`{"pad":"${"x".repeat(40_000)}"}`);
  let traps = 0;
  let ok = 0;
  try {
    for (let i = 0; i < 20; i++) {
      try {
        await p.call(request, 1000);
        ok++;
      } catch (e) {
        assert.ok(e instanceof PluginError && e.kind === "trap", String(e));
        traps++;
      }
    }
  } finally {
    await p.close();
  }
  assert.ok(traps >= 3, `traps ${traps}`);
  assert.ok(ok >= 10, `ok ${ok}`);
});
