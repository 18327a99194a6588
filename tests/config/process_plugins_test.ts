/**
 * `type: process` plugins (docs/plugins.md §7): the `process` section, its defaults, paths
 * resolved against the config file's folder, the socket paths named at load, and every
 * mistake reported with its path and line:col.
 */
import assert from "node:assert/strict";
import { ConfigErrors, parseConfig, type PluginConfig } from "../../src/config/mod.ts";
import { errorsOf, lines, summaries } from "./expect_errors.ts";

const SOURCE = "/etc/gh/config.yaml";

/** `/tmp/gatehouse-` and the first 16 hex digits of sha256(`path`), computed here on its own. */
async function runtimeDir(path: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(path));
  const hex = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
  return `/tmp/gatehouse-${hex.slice(0, 16)}`;
}

function processPlugin(plugin: PluginConfig | undefined) {
  assert(plugin?.type === "process", `not a process plugin: ${JSON.stringify(plugin)}`);
  return plugin;
}

Deno.test("process plugin: a command with its defaults, the program resolved against the config's folder", async () => {
  const [guard] = parseConfig(
    lines(
      "plugins:",
      "  - name: guard",
      "    type: process",
      "    stage: deny",
      "    process:",
      '      command: ["./bin/guard", "--mode", "strict", "", "./not-a-program"]',
    ),
    SOURCE,
  ).plugins;
  const base = await runtimeDir(SOURCE);
  assert.deepEqual(processPlugin(guard), {
    name: "guard",
    type: "process",
    stage: "deny",
    before: [],
    after: [],
    timeoutMs: 1000,
    failurePolicy: "continue",
    process: {
      // Only the program is a path; the arguments are passed as written.
      command: ["/etc/gh/bin/guard", "--mode", "strict", "", "./not-a-program"],
      module: null,
      permissions: { net: [], read: [], env: [] },
      env: {},
      config: {},
      poolSize: 4,
      readyTimeoutMs: 5000,
      socketDir: `${base}/guard`,
      socketPath: `${base}/guard/plugin.sock`,
      workDir: "/etc/gh",
    },
  });
});

Deno.test("process plugin: a bare program name is kept for the PATH lookup, an absolute one as written", () => {
  const [bare, absolute, parent] = parseConfig(
    lines(
      "plugins:",
      "  - { name: a, type: process, process: { command: [go, run, ./guard.go] } }",
      "  - { name: b, type: process, process: { command: [/usr/local/bin/guard] } }",
      "  - { name: c, type: process, process: { command: [../bin/guard] } }",
    ),
    SOURCE,
  ).plugins;
  assert.deepEqual(processPlugin(bare).process.command, ["go", "run", "./guard.go"]);
  assert.deepEqual(processPlugin(absolute).process.command, ["/usr/local/bin/guard"]);
  assert.deepEqual(processPlugin(parent).process.command, ["/etc/bin/guard"]);
});

Deno.test("process plugin: a module with permissions, env, config, pool_size and ready_timeout", () => {
  const [m] = parseConfig(
    lines(
      "plugins:",
      "  - name: m",
      "    type: process",
      "    timeout: 250ms",
      "    process:",
      "      module: plugins/guard.ts",
      "      permissions:",
      '        net: ["10.0.0.5:6379", redis.internal, "[fd00::1]:6379"]',
      "        read: [./bans.txt, /srv/lists]",
      "        env: [GUARD_KEY]",
      "      env: { GUARD_MODE: strict, LIMIT: 3 }",
      "      config: { any: json, list: [1, '2', null] }",
      "      pool_size: 64",
      "      ready_timeout: 1.5s",
    ),
    SOURCE,
  ).plugins;
  const p = processPlugin(m);
  assert.equal(p.timeoutMs, 250);
  assert.equal(p.process.command, null);
  assert.equal(p.process.module, "/etc/gh/plugins/guard.ts");
  assert.deepEqual(p.process.permissions, {
    net: ["10.0.0.5:6379", "redis.internal", "[fd00::1]:6379"],
    read: ["/etc/gh/bans.txt", "/srv/lists"],
    env: ["GUARD_KEY"],
  });
  // YAML scalars are strings here, as for every string setting.
  assert.deepEqual(p.process.env, { GUARD_MODE: "strict", LIMIT: "3" });
  assert.deepEqual(p.process.config, { any: "json", list: [1, "2", null] });
  assert.equal(p.process.poolSize, 64);
  assert.equal(p.process.readyTimeoutMs, 1500);
});

Deno.test("process plugin: socket paths are stable per config file and differ between files", async () => {
  const text = lines("plugins:", "  - { name: p.1_x-y, type: process, process: { module: m.ts } }");
  const socket = (source: string) =>
    processPlugin(parseConfig(text, source).plugins[0]).process.socketPath;
  assert.equal(socket(SOURCE), socket(SOURCE));
  assert.equal(socket(SOURCE), `${await runtimeDir(SOURCE)}/p.1_x-y/plugin.sock`);
  assert.notEqual(socket("/etc/gh/other.yaml"), socket(SOURCE));
  // A relative config path names the same file as its absolute form.
  assert.equal(socket("config.yaml"), socket(`${Deno.cwd()}/config.yaml`));
  assert.equal(
    socket("config.yaml"),
    `${await runtimeDir(`${Deno.cwd()}/config.yaml`)}/p.1_x-y/plugin.sock`,
  );
});

Deno.test("process plugin: the name must be a safe path component and the socket path fit 107 bytes", () => {
  const longest = "n".repeat(63); // /tmp/gatehouse-<16>/<name>/plugin.sock: 44 + 63 = 107 bytes
  const ok = lines(
    "plugins:",
    `  - { name: ${longest}, type: process, process: { module: m.ts } }`,
  );
  assert.equal(
    new TextEncoder().encode(processPlugin(parseConfig(ok, SOURCE).plugins[0]).process.socketPath)
      .length,
    107,
  );
  const text = lines(
    "plugins:",
    "  - { name: a/b, type: process, process: { module: m.ts } }",
    '  - { name: "..", type: process, process: { module: m.ts } }',
    '  - { name: ".", type: process, process: { module: m.ts } }',
    "  - { name: café, type: process, process: { module: m.ts } }",
    `  - { name: ${longest}n, type: process, process: { module: m.ts } }`,
    // Other plugin types keep any name.
    "  - { name: a/b c, type: grpc, grpc: { address: 127.0.0.1:1 } }",
  );
  assert.deepEqual(summaries(text, SOURCE), [
    "invalid plugins[0].name 2:13",
    "invalid plugins[1].name 3:13",
    "invalid plugins[2].name 4:13",
    "invalid plugins[3].name 5:13",
    "invalid plugins[4].name 6:13",
  ]);
  const [slash, , , , long] = errorsOf(text, SOURCE);
  assert.match(
    slash!.message,
    /use only letters, digits, "\.", "_" and "-" \(not "\." or "\.\."\), got "a\/b"/,
  );
  assert.match(
    long!.message,
    /socket path \/tmp\/gatehouse-[0-9a-f]{16}\/n{64}\/plugin\.sock is 108 bytes, over the 107 a Unix socket address holds/,
  );
});

Deno.test("process plugin: exactly one of command and module", () => {
  const text = lines(
    "plugins:",
    "  - name: both",
    "    type: process",
    "    process:",
    "      command: [./guard]",
    "      module: ./guard.ts",
    "  - name: neither",
    "    type: process",
    "    process:",
    "      pool_size: 2",
    "  - name: empty",
    "    type: process",
    "    process: {}",
    "  - name: missing",
    "    type: process",
    "  - name: misspelt",
    "    type: process",
    "    process: { comand: [./guard] }",
  );
  assert.deepEqual(summaries(text, SOURCE), [
    "invalid plugins[0].process.module 6:7",
    "required plugins[1].process 10:7",
    "required plugins[2].process 13:14",
    "required plugins[3].process 14:5",
    // Only the misspelling: a "missing command" would repeat it.
    "unknown_key plugins[4].process.comand 18:16",
  ]);
  const [both, neither] = errorsOf(text, SOURCE);
  assert.match(both!.message, /set either command or module, not both/);
  assert.match(neither!.message, /needs command \(a program and its arguments\) or module/);
});

Deno.test("process plugin: command and module values", () => {
  const text = lines(
    "plugins:",
    "  - { name: a, type: process, process: { command: [] } }",
    "  - { name: b, type: process, process: { command: ./guard } }",
    '  - { name: c, type: process, process: { command: [" ", x] } }',
    '  - { name: d, type: process, process: { command: ["./a,b"] } }',
    "  - { name: e, type: process, process: { command: [./guard, null] } }",
    '  - { name: f, type: process, process: { module: " " } }',
    "  - { name: g, type: process, process: { module: [m.ts] } }",
  );
  assert.deepEqual(summaries(text, SOURCE), [
    "required plugins[0].process.command 2:51",
    "type plugins[1].process.command 3:51",
    "required plugins[2].process.command[0] 4:52",
    "invalid plugins[3].process.command[0] 5:52",
    "type plugins[4].process.command[1] 6:61",
    "required plugins[5].process.module 7:50",
    "type plugins[6].process.module 8:50",
  ]);
  const errors = errorsOf(text, SOURCE);
  assert.match(errors[0]!.message, /must name the program to run/);
  assert.match(errors[3]!.message, /may not contain a comma \(Deno's --allow-run/);
});

Deno.test("process plugin: permissions are for modules only, each entry checked", () => {
  const text = lines(
    "plugins:",
    "  - name: cmd",
    "    type: process",
    "    process:",
    "      command: [./guard]",
    "      permissions: { net: [10.0.0.5] }",
    "  - name: mod",
    "    type: process",
    "    process:",
    "      module: ./guard.ts",
    "      permissions:",
    '        net: ["a.example:0", "a,b", "host:70000", "", "unix:/x.sock", "10.0.0.5:6379"]',
    '        read: ["./a,b", ./ok]',
    '        env: ["1X", "A,B", "OK_1", "X*"]',
    "        run: [sh]",
  );
  assert.deepEqual(summaries(text, SOURCE), [
    "invalid plugins[0].process.permissions 6:7",
    "invalid plugins[1].process.permissions.net[0] 12:15",
    "invalid plugins[1].process.permissions.net[1] 12:30",
    "invalid plugins[1].process.permissions.net[2] 12:37",
    "invalid plugins[1].process.permissions.net[3] 12:51",
    "invalid plugins[1].process.permissions.net[4] 12:55",
    "invalid plugins[1].process.permissions.read[0] 13:16",
    "invalid plugins[1].process.permissions.env[0] 14:15",
    "invalid plugins[1].process.permissions.env[1] 14:21",
    "invalid plugins[1].process.permissions.env[3] 14:36",
    "unknown_key plugins[1].process.permissions.run 15:9",
  ]);
  const errors = errorsOf(text, SOURCE);
  assert.match(
    errors[0]!.message,
    /only used by module plugins: a command runs outside Deno's sandbox/,
  );
  assert.match(
    errors[1]!.message,
    /expected HOST or HOST:PORT \(an IPv6 address in brackets\), got "a\.example:0"/,
  );
  assert.match(errors[4]!.message, /must not be empty/);
  assert.match(errors[6]!.message, /may not contain a comma/);
  assert.match(errors[7]!.message, /expected a variable name/);
});

Deno.test("process plugin: env, pool_size and ready_timeout values", () => {
  const text = lines(
    "plugins:",
    "  - name: p",
    "    type: process",
    "    process:",
    "      module: m.ts",
    '      env: { "A=B": x, 1X: y, C: ~, D: [1], OK: z }',
    "      pool_size: 0",
    "      ready_timeout: 0s",
    "  - name: q",
    "    type: process",
    "    process:",
    "      module: m.ts",
    "      env: [A]",
    "      pool_size: 65",
    "      ready_timeout: 5x",
    "      ready_timeot: 5s",
  );
  assert.deepEqual(summaries(text, SOURCE), [
    'invalid plugins[0].process.env["A=B"] 6:14',
    "invalid plugins[0].process.env.1X 6:24",
    "type plugins[0].process.env.C 6:34",
    "type plugins[0].process.env.D 6:40",
    "invalid plugins[0].process.pool_size 7:18",
    "invalid plugins[0].process.ready_timeout 8:22",
    "type plugins[1].process.env 13:12",
    "invalid plugins[1].process.pool_size 14:18",
    "invalid plugins[1].process.ready_timeout 15:22",
    "unknown_key plugins[1].process.ready_timeot 16:7",
  ]);
  const errors = errorsOf(text, SOURCE);
  assert.match(errors[4]!.message, /must be between 1 and 64, got 0/);
  assert.match(errors[5]!.message, /must be greater than 0/);
  assert.match(errors[9]!.message, /did you mean "ready_timeout"\?/);
});

Deno.test("process plugin: another transport's section is an error, both ways", () => {
  const text = lines(
    "plugins:",
    "  - name: p",
    "    type: process",
    "    process: { module: m.ts }",
    "    grpc: { address: 127.0.0.1:1 }",
    "    wasm: { path: p.wasm }",
    "  - name: g",
    "    type: grpc",
    "    grpc: { address: 127.0.0.1:1 }",
    "    process: { module: m.ts }",
    "  - name: w",
    "    type: wasm",
    "    wasm: { path: p.wasm }",
    "    process: ~",
  );
  assert.deepEqual(summaries(text, SOURCE), [
    "invalid plugins[0].grpc 5:5",
    "invalid plugins[0].wasm 6:5",
    "invalid plugins[1].process 10:5",
  ]);
  const errors = errorsOf(text, SOURCE);
  assert.match(errors[0]!.message, /only used by grpc plugins/);
  assert.match(errors[2]!.message, /only used by process plugins/);
});

Deno.test("process plugin: JSON configs read the same section", () => {
  const json = JSON.stringify({
    plugins: [{
      name: "j",
      type: "process",
      process: { command: ["./j"], env: { A: "1" }, pool_size: 2, ready_timeout: "2s" },
    }],
  });
  const j = processPlugin(parseConfig(json, "/etc/gh/config.json").plugins[0]);
  assert.deepEqual(j.process.command, ["/etc/gh/j"]);
  assert.deepEqual(j.process.env, { A: "1" });
  assert.equal(j.process.poolSize, 2);
  assert.equal(j.process.readyTimeoutMs, 2000);
  // JSON types must match: a number is no env value.
  const bad = JSON.stringify({
    plugins: [{ name: "j", type: "process", process: { module: "m.ts", env: { A: 1 } } }],
  });
  assert.throws(() => parseConfig(bad, "/etc/gh/config.json"), (e: unknown) => {
    assert(e instanceof ConfigErrors);
    assert.match(e.message, /plugins\[0\]\.process\.env\.A: expected a string, got 1/);
    return true;
  });
});
