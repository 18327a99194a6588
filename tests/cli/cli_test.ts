import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { run } from "../../src/cli/mod.ts";
import { startRouter } from "../support/router_harness.ts";

function captureIO() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) } };
}

async function tempConfig(text: string, ext = ".yaml"): Promise<string> {
  const path = await Deno.makeTempFile({ suffix: ext });
  await Deno.writeTextFile(path, text);
  return path;
}

const wasmBuilt = await Deno.stat("plugins/wasm-example/plugin.wasm").then(() => true, () => false);

/** Guards: every config in dev/ is valid and its WASM plugins load (`check` exits 0, one line). */
Deno.test("check prints a one-line summary for every dev config", async () => {
  for await (const entry of Deno.readDir("dev")) {
    // dev/ also holds files the configs name (the process example's ban list).
    if (!/\.(ya?ml|json)$/.test(entry.name)) continue;
    const path = `dev/${entry.name}`;
    const needsWasm = (await Deno.readTextFile(path)).includes("type: wasm");
    if (needsWasm && !wasmBuilt) continue; // covered by the next test
    const { out, err, io } = captureIO();
    assertEquals(await run(["check", "--config", path], io), 0, err.join("\n"));
    assertEquals(out.length, 1);
    assertMatch(out[0]!, /^ok: dev\/.+, listen udp /);
  }
});

Deno.test("check loads WASM plugins and names one that cannot load", async () => {
  const path = await tempConfig(
    "plugins:\n  - { name: broken, type: wasm, wasm: { path: /nonexistent/p.wasm } }\n",
  );
  const { out, err, io } = captureIO();
  assertEquals(await run(["check", "--config", path], io), 1);
  assertEquals(out, []);
  assert(
    err.some((l) => l.includes('plugin "broken"') && l.includes("/nonexistent/p.wasm")),
    err.join("\n"),
  );
});

Deno.test("check names a misspelt key, its line and column, and the intended key", async () => {
  const path = await tempConfig(
    "routing:\n  default:\n    stratgy: round_robin\n    backends: [{host: a, port: 5520}]\n",
  );
  const { out, err, io } = captureIO();
  assertEquals(await run(["check", "--config", path], io), 1);
  assertEquals(out, []);
  assert(
    err.some((l) => l.includes(`${path}:3:5`) && l.includes('did you mean "strategy"')),
    err.join("\n"),
  );
});

Deno.test("check reports every error at once", async () => {
  const path = await tempConfig(
    "listen: ''\nrouting:\n  default:\n    strategy: nope\n    backends: [{host: a, port: 0}]\n",
  );
  const { err, io } = captureIO();
  assertEquals(await run(["check", "--config", path], io), 1);
  assertEquals(err.at(-1), `${path}: 3 errors`);
});

Deno.test("usage errors exit 2 and say what was wrong", async () => {
  const cases: [string[], RegExp][] = [
    [["frobnicate"], /unknown command "frobnicate"/],
    [["check"], /--config FILE is required/],
    [["probe", "127.0.0.1:5520"], /--sni NAME is required/],
    [["probe", "nohost", "--sni", "a"], /expected HOST:PORT/],
    [["probe", "127.0.0.1:70000", "--sni", "a"], /expected HOST:PORT/],
    [["probe", "127.0.0.1:5520", "--sni", "a", "--uuid", "x"], /--uuid must look like/],
    [["probe", "127.0.0.1:5520", "--sni", "a", "--timeout", "soon"], /--timeout: expected/],
    [["probe", "127.0.0.1:5520", "--sni", "a", "--timeout", "1000h"], /--timeout: expected/],
    [["probe", "localhost:5520", "--sni", ""], /sends no SNI only when dialling an IP/],
    [["start", "--log-level", "loud"], /--log-level must be one of debug, info, warn, error/],
    [["start", "--bogus"], /Unknown option '--bogus'/],
  ];
  for (const [args, message] of cases) {
    const { err, io } = captureIO();
    assertEquals(await run(args, io), 2, args.join(" "));
    assertMatch(err[0]!, message);
  }
});

Deno.test("probe prints the referral with its verified envelope as one JSON line", async () => {
  const router = await startRouter(`
listen: "127.0.0.1:0"
referral: { key_id: 3, hmac_secret: "base64:c2VjcmV0" }
routing:
  routes:
    - match: { hostname: "play.example.com" }
      pool: { strategy: random, backends: [{ host: a.internal, port: 5520 }] }
`);
  try {
    const { out, err, io } = captureIO();
    const args = ["probe", `127.0.0.1:${router.port}`, "--sni", "play.example.com"];
    assertEquals(
      await run([...args, "--secret", "secret"], io),
      0,
      out.join("\n") + err.join("\n"),
    );
    assertEquals(out.length, 1);
    const result = JSON.parse(out[0]!);
    assertEquals(result.outcome, "referral");
    assertEquals([result.host, result.port], ["a.internal", 5520]);
    assertEquals(result.envelope.key_id, 3);
    assertEquals(result.envelope.valid, true);

    const wrong = captureIO();
    assertEquals(await run([...args, "--secret", "other"], wrong.io), 0);
    assertEquals(JSON.parse(wrong.out[0]!).envelope.valid, false);

    const denied = captureIO();
    assertEquals(await run(["probe", `127.0.0.1:${router.port}`, "--sni", "x.org"], denied.io), 0);
    assertEquals(JSON.parse(denied.out[0]!), {
      ...JSON.parse(denied.out[0]!),
      outcome: "disconnect",
      reason: "The server is currently unavailable.",
    });
  } finally {
    await router.close();
  }
});

Deno.test("probe against nothing reports an error line within its timeout", async () => {
  const { out, io } = captureIO();
  const started = performance.now();
  const code = await run(["probe", "127.0.0.1:9", "--sni", "a", "--timeout", "300ms"], io);
  assert(performance.now() - started < 3_000, "bounded by --timeout");
  assertEquals(code, 1);
  assert(["error", "timeout"].includes(JSON.parse(out[0]!).outcome), out[0]);
});
