/**
 * `gatehouse explain` as `deno task explain` runs it (a subprocess with the task's flags, which
 * runs the decision in a sandboxed child): the report and the JSON, a WASM plugin loaded and
 * called offline, maintenance from the config in the request's language, bad flags (exit 2
 * naming the flag) and config errors (exit 1, as `check` prints them).
 */
import assert from "node:assert/strict";
import { run } from "../../src/cli/mod.ts";
import type { Explanation } from "../../src/server/mod.ts";
import { STATE_VERSION } from "../../src/state/mod.ts";
import { taskFlags } from "../support/start_task.ts";

const FLAGS = await taskFlags("explain");
const PLUGIN = new URL("../fixtures/wasm/build/rust-example.wasm", import.meta.url).pathname;

async function explain(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...FLAGS, "src/cli/main.ts", "explain", ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: output.code, out: text(output.stdout), err: text(output.stderr) };
}

async function tempConfig(text: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "gh-explain-" });
  await Deno.writeTextFile(`${dir}/config.yaml`, text);
  return `${dir}/config.yaml`;
}

// least_loaded: deterministic, so the report can be asserted.
const ROUTES = `
listen: "127.0.0.1:0"
routing:
  routes:
    - match: { hostnames: ["*.play.example.com"] }
      pool:
        strategy: least_loaded
        key: players
        limit: 2
        sort: [ { key: players, type: number, order: desc } ]
        backends:
          - { host: a.internal, port: 5520, meta: { players: "7", secret_key: s3cr3t } }
          - { host: b.internal, port: 5520, meta: { players: "3" } }
          - { host: c.internal, port: 5520, meta: { players: "1" } }
`;

/** The flags asking how player "steve" arriving at `sni` is routed by `config`. */
function asSteve(config: string, sni: string): string[] {
  return ["--config", config, "--sni", sni, "--username", "steve"];
}

Deno.test("explain CLI: the readable report and the JSON of a deterministic pool", async () => {
  const config = await tempConfig(ROUTES);
  const report = await explain(...asSteve(config, "eu.play.example.com"));
  assert.equal(report.code, 0, report.err);
  const lines = report.out.split("\n");
  assert.ok(lines.includes('route: routes[0], matched "*.play.example.com" (glob)'), report.out);
  assert.ok(lines.includes("  after sort:    a.internal:5520, b.internal:5520, c.internal:5520"));
  assert.ok(lines.includes("  after limit:   a.internal:5520, b.internal:5520"));
  assert.ok(lines.includes("  picked:        b.internal:5520"));
  assert.ok(lines.includes("reply: referral to b.internal:5520"), report.out);
  assert.ok(!report.out.includes("s3cr3t"), "secret meta values are redacted");

  const json = await explain(
    ...asSteve(config, "eu.play.example.com"),
    "--uuid",
    "0F0E0D0C-0B0A-0908-0706-050403020100",
    "--client-type",
    "1",
    "--json",
  );
  assert.equal(json.code, 0, json.err);
  const e = JSON.parse(json.out) as Explanation;
  assert.equal(e.request.uuid, "0f0e0d0c-0b0a-0908-0706-050403020100");
  assert.equal(e.request.client_type, 1);
  assert.equal(e.candidates.resolved[0]!.meta!.secret_key, "<redacted>");
  assert.deepEqual(e.candidates.attempts.map((a) => [a.strategy, a.picked]), [
    ["least_loaded", "b.internal:5520"],
  ]);
  assert.deepEqual(e.reply, { kind: "referral", backend: "b.internal:5520" });
});

Deno.test("explain CLI: a WASM plugin is loaded and called offline", async () => {
  const config = await tempConfig(`${ROUTES}
plugins:
  - { name: rusty, type: wasm, wasm: { path: ${PLUGIN} } }
`);
  const routed = await explain(
    ...asSteve(config, "x.play.example.com"),
    "--json",
  );
  assert.equal(routed.code, 0, routed.err);
  const e = JSON.parse(routed.out) as Explanation;
  assert.equal(e.plugins.length, 1);
  const [rusty] = e.plugins;
  assert.equal(rusty!.verdict, "continue");
  assert.deepEqual(rusty!.answer?.backend, {
    host: "play.example.com",
    port: 5520,
    weight: 0,
    meta: null,
  });
  assert.deepEqual(rusty!.answer?.referral_content, {
    length: 11,
    base64: btoa("wasm-plugin"),
    truncated: false,
  });
  assert.deepEqual(e.reply, { kind: "referral", backend: "play.example.com:5520" });

  const denied = await explain(
    "--config",
    config,
    "--sni",
    "x.play.example.com",
    "--username",
    "deny",
  );
  assert.equal(denied.code, 0, denied.err);
  assert.match(denied.out, /"rusty": deny, .*deny_reason "denied by wasm plugin"/);
  assert.match(denied.out, /reply: disconnect, outcome deny .*: "denied by wasm plugin"/);
});

Deno.test("explain CLI: the config's maintenance, in the request's language", async () => {
  const config = await tempConfig(`${ROUTES}
maintenance:
  enabled: true
  message: Back soon
  message_locales: { de: Gleich zurück }
  bypass: [staff]
`);
  const args = ["--config", config, "--sni", "eu.play.example.com", "--language", "de-DE"];
  const de = await explain(...args, "--username", "steve");
  assert.equal(de.code, 0, de.err);
  assert.ok(de.out.includes("maintenance: on\n"), de.out);
  assert.ok(
    de.out.includes('reply: disconnect, outcome maintenance (maintenance mode): "Gleich zurück"'),
  );
  const staff = await explain(...args, "--username", "staff");
  assert.ok(staff.out.includes("maintenance: on, bypassed\n"), staff.out);
  assert.ok(staff.out.includes("reply: referral to b.internal:5520"), staff.out);
});

Deno.test("explain CLI: the runtime state in admin.state_file (drained, maintenance) applies", async () => {
  const config = await tempConfig(ROUTES);
  const stateFile = config.replace(/config\.yaml$/, "state.json");
  await Deno.writeTextFile(
    config,
    `${ROUTES}\nadmin:\n  listen: "127.0.0.1:0"\n  state_file: ${JSON.stringify(stateFile)}\n`,
  );
  const args = asSteve(config, "eu.play.example.com");
  // No file yet: a router starting now would start from the config.
  const none = await explain(...args);
  assert.equal(none.code, 0, none.err);
  assert.ok(none.out.includes("reply: referral to b.internal:5520"), none.out);

  const maintenance = { enabled: false, message: "", message_locales: {}, bypass: [] };
  await Deno.writeTextFile(
    stateFile,
    JSON.stringify({ version: STATE_VERSION, maintenance: null, drained: ["b.internal:5520"] }),
  );
  const drained = await explain(...args);
  assert.equal(drained.code, 0, drained.err);
  assert.ok(drained.out.startsWith(`runtime state: file ${stateFile} (1 drained)\n`), drained.out);
  assert.ok(drained.out.includes("  b.internal:5520  weight 0  DRAINED  players=3"), drained.out);
  assert.ok(drained.out.includes("reply: referral to c.internal:5520"), drained.out);

  const on = { ...maintenance, enabled: true, message: "Upgrading" };
  await Deno.writeTextFile(
    stateFile,
    JSON.stringify({ version: STATE_VERSION, maintenance: on, drained: [] }),
  );
  const closed = await explain(...args);
  assert.equal(closed.code, 0, closed.err);
  assert.ok(closed.out.includes('outcome maintenance (maintenance mode): "Upgrading"'), closed.out);

  // A corrupt file is reported, and the explanation falls back to the config.
  await Deno.writeTextFile(stateFile, "{ not json");
  const corrupt = await explain(...args);
  assert.equal(corrupt.code, 0, corrupt.err);
  assert.match(corrupt.err, /state\.json/);
  assert.ok(corrupt.out.includes("reply: referral to b.internal:5520"), corrupt.out);
});

Deno.test("explain CLI: bad flags exit 2 naming the flag; config errors exit 1", async () => {
  const config = await tempConfig(ROUTES);
  const base = ["--config", config, "--sni", "x"];
  const cases: readonly [string[], RegExp][] = [
    [["--config", config, "--username", "s"], /--sni NAME is required/],
    [[...base], /--username NAME is required/],
    [["--sni", "x", "--username", "s"], /--config FILE is required/],
    [[...base, "--username", "a-name-over-16-bytes"], /--username: must be at most 16 bytes/],
    [[...base, "--username", "s", "--uuid", "nope"], /--uuid: must look like 8-4-4-4-12/],
    [[...base, "--username", "s", "--client-type", "256"], /--client-type: must be a whole number/],
    [[...base, "--username", "s", "--client-type=-1"], /--client-type: must be a whole number/],
    [[...base, "--username", "s", "--client-ip", "999.0.0.1"], /--client-ip: must be an IPv4/],
    [[...base, "--username", "s", "--language", "x".repeat(17)], /--language: must be at most 16/],
    [[...base, "--username", "s", "--bogus"], /Unknown option '--bogus'/],
  ];
  // Refused before anything is loaded or spawned: in-process, through the command table.
  for (const [args, message] of cases) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await run(["explain", ...args], {
      out: (l) => out.push(l),
      err: (l) => err.push(l),
    });
    assert.equal(code, 2, `${args.join(" ")}: ${err.join("\n")}`);
    assert.match(err.join("\n"), message);
    assert.deepEqual(out, []);
  }
  const broken = await tempConfig("routing:\n  default:\n    stratgy: round_robin\n");
  const failed = await explain("--config", broken, "--sni", "x", "--username", "s");
  assert.equal(failed.code, 1);
  assert.match(failed.err, /config\.yaml:3:5 .*did you mean "strategy"/);
  assert.equal(failed.out, "");
});
