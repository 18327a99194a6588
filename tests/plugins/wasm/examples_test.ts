/**
 * The example plugins (AssemblyScript, C, Rust) built from their sources and run through the
 * full host: same behaviour from each. C and Rust need their Debian toolchains
 * (`.ci/setup_wasm.sh` installs them); without one, its tests are skipped by name.
 */

import assert from "node:assert/strict";
import { runPluginTest } from "../../../src/plugins/wasm/mod.ts";
import { captureLogger, hasTool, load, req } from "./support.ts";
import { testRequiring } from "../../support/requires.ts";

const root = new URL("../../../", import.meta.url).pathname;
const outDir = await Deno.makeTempDir({ prefix: "gatehouse-wasm-examples-" });

async function build(cmd: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(cmd, { args, cwd: root, stdout: "piped", stderr: "piped" })
    .output();
  const text = new TextDecoder();
  if (!out.success) {
    throw new Error(
      `${cmd} ${args.join(" ")}:\n${text.decode(out.stdout)}${text.decode(out.stderr)}`,
    );
  }
}

const EXAMPLES = [
  {
    name: "assemblyscript",
    available: true,
    build: (out: string) =>
      build(Deno.execPath(), [
        "run",
        "--allow-read",
        "--allow-write",
        "--allow-env",
        "plugins/wasm-example/build.ts",
        out,
      ]),
  },
  {
    name: "c",
    available: hasTool("clang") && hasTool("wasm-ld"),
    build: (out: string) => build("bash", ["plugins/c-example/build.sh", out]),
  },
  {
    name: "rust",
    available: hasTool("/usr/bin/rustc") &&
      (() => {
        try {
          return Deno.statSync("/usr/lib/wasm32-wasi/crt1-reactor.o").isFile;
        } catch {
          return false;
        }
      })(),
    build: (out: string) => build("bash", ["plugins/rust-example/build.sh", out]),
  },
];

const DENIED = { deny: true, deny_reason: "denied by wasm plugin" };
const ROUTED = {
  backend: { host: "play.example.com", port: 5520 },
  referral_content: btoa("wasm-plugin"),
};

function request(username: string): Uint8Array {
  return req(JSON.stringify({
    event: { sni: "play.example.com", uuid: "d3e6ef90-e113-49a7-a845-1c11f24fe166", username },
    strategy: "round_robin",
    candidates: null,
    selected_index: -1,
    backend: { host: "", port: 0, weight: 0, meta: null },
  }));
}

for (const example of EXAMPLES) {
  testRequiring(
    { available: example.available, install: "bash .ci/setup_wasm.sh (its toolchain)" },
    `example ${example.name}: deny, route and referral content through the full host`,
    async () => {
      const path = `${outDir}/${example.name}.wasm`;
      await example.build(path);
      const { logger, lines } = captureLogger();
      const p = await load(example.name, await Deno.readFile(path), {
        logger,
        maxMemoryBytes: 16 * 1024 * 1024,
        timeoutMs: 1000,
      });
      try {
        const decode = (b: Uint8Array) => JSON.parse(new TextDecoder().decode(b));
        assert.deepEqual(decode(await p.call(request("deny"), 1000)), DENIED);
        assert.deepEqual(decode(await p.call(request("Krymo"), 1000)), ROUTED);
        assert.deepEqual(decode(await p.call(request("denyx"), 1000)), ROUTED);
        if (example.name === "assemblyscript") {
          // Escaped strings take the kit's slow path; "d\u0065ny" is "deny".
          const escaped = new TextDecoder().decode(request("deny")).replace("deny", "d\\u0065ny");
          assert.deepEqual(decode(await p.call(req(escaped), 1000)), DENIED);
          assert.deepEqual(decode(await p.call(request('de"n\\y'), 1000)), ROUTED);
        }
        // Many calls: buffers are released (or recycled) so memory stays within the cap.
        for (let i = 0; i < 2000; i++) await p.call(request(`player${i}`), 1000);
        assert.deepEqual(decode(await p.call(request("deny"), 1000)), DENIED);
      } finally {
        await p.close();
      }
      if (example.name === "c") {
        assert.ok(lines.some((l) => l.includes("c-example ready (config 2 bytes)")), lines.join());
      }
    },
  );
}

Deno.test("plugin:test prints the response and the time taken", async () => {
  const path = `${outDir}/cli.wasm`;
  await EXAMPLES[0]!.build(path);
  const printed: string[] = [];
  const requestFile = `${outDir}/deny.json`;
  await Deno.writeTextFile(requestFile, new TextDecoder().decode(request("deny")));
  const code = await runPluginTest([path, "--request", requestFile], {
    print: (l) => printed.push(l),
    logger: captureLogger().logger,
  });
  assert.equal(code, 0, printed.join("\n"));
  assert.deepEqual(JSON.parse(printed[0]!), DENIED);
  assert.match(printed[1]!, /^load: \d+\.\d ms, call: \d+\.\d{3} ms$/);
  assert.equal(await runPluginTest([], { print: (l) => printed.push(l) }), 2);
  assert.match(printed.at(-1)!, /^usage: plugin:test PLUGIN\.wasm/);
});
