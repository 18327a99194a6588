/**
 * Process plugin transport benchmark (docs/plugins.md §7): per-call cost of an example process
 * plugin's `on_connect` through
 *
 * - `direct`: a minimal client speaking the socket contract straight to the plugin — one
 *   connection, one call at a time: write a prebuilt request frame, read the response frame
 *   (one buffer, usually one read), decode it (baseline: the plugin and the socket alone);
 * - `direct x16`: 16 such clients at once, each on its own connection (what the plugin process
 *   itself can serve; informational);
 * - `chain`: the router's path — `loadProcessPlugin` (supervisor, hook pool) under
 *   `PluginChain.apply` (encode the call, deadline alarms, decode and apply the answer), one call
 *   at a time;
 * - `chain xN pool P`: the same with N calls in flight, for each pool size P of `--pool-sizes`.
 *
 * Every plugin is started as the router starts it (`processArgv` and `childEnv`: the router's
 * Deno with `--no-config` and exact grants for a `module`, a clean environment, `configure` on
 * stdin, `ready` on stdout), each in its own process on its own socket. Reports p50/p99 per call
 * and calls/s; the overhead is chain p50 − direct p50 (goal ≤ 100 µs), the throughput goal is
 * ≥ 20,000 calls/s with 16 in flight. The variants run alternately in rounds (the order reversed
 * every other round) so drift lands on all alike; per variant the median round (by p50) is shown.
 *
 * `deno task bench:process [--plugin ts|go] [--calls N] [--rounds N] [--in-flight N]
 * [--pool-sizes 4,8,16] [--gomaxprocs N] [--only TEXT] [--json FILE]` (`--plugin go`:
 * plugins/process-go-example/bin/guard, built by `deno task plugin:process:build`;
 * `--gomaxprocs`: the Go plugin's `GOMAXPROCS`, as `process.env` would set it; `--only`: just
 * the variants whose name contains TEXT, e.g. to profile one with `--cpu-prof`). The task runs with blanket `--allow-net` and write
 * access to `/tmp`: the sockets are made under a fresh `/tmp/gatehouse-bench-*` folder at run
 * time, and Deno grants a Unix socket only by its exact path — the router's launcher grants
 * exactly those, a benchmark need not.
 *
 * @module
 */

import { decode, encode } from "@msgpack/msgpack";
import { parseArgs } from "node:util";
import type { Backend, PluginConfig, ProcessPluginConfig } from "../src/config/mod.ts";
import { Logger } from "../src/observability/mod.ts";
import { type ChainState, PluginChain } from "../src/plugins/mod.ts";
import {
  childEnv,
  loadProcessPlugin,
  processArgv,
  type ProcessTransport,
} from "../src/plugins/process/mod.ts";
import { SAMPLE_EVENT } from "../tests/plugins/fake_transport.ts";
import { quantile } from "./measure.ts";

const ROOT = decodeURIComponent(new URL("..", import.meta.url).pathname);
const TS_EXAMPLE = `${ROOT}plugins/process-example/main.ts`;
const GO_EXAMPLE = `${ROOT}plugins/process-go-example/bin/guard`;
const ON_CONNECT = 3;
const TIMEOUT_MS = 1_000;

const { values } = parseArgs({
  args: Deno.args,
  options: {
    plugin: { type: "string", default: "ts" },
    calls: { type: "string", default: "20000" },
    rounds: { type: "string", default: "3" },
    "in-flight": { type: "string", default: "16" },
    "pool-sizes": { type: "string", default: "4,8,16" },
    json: { type: "string" },
    only: { type: "string" },
    gomaxprocs: { type: "string" },
  },
});
if (values.plugin !== "ts" && values.plugin !== "go") {
  throw new Error(`--plugin must be ts or go, not ${values.plugin}`);
}
const CALLS = Number(values.calls);
const ROUNDS = Number(values.rounds);
const IN_FLIGHT = Number(values["in-flight"]);
const POOL_SIZES = values["pool-sizes"].split(",").map(Number);
if (POOL_SIZES.some((n) => !Number.isInteger(n) || n < 1 || n > 64)) {
  throw new Error(`--pool-sizes: integers 1-64, got ${values["pool-sizes"]}`);
}

// One player, as the chain would see them: a v2 Connect (`SAMPLE_EVENT`, the plugin tests' own)
// on an exact route with one backend.
const BACKEND: Backend = { host: "10.0.0.1", port: 5520, weight: 1, meta: null };
const STATE: ChainState = {
  strategy: "round_robin",
  candidates: [BACKEND],
  selectedIndex: 0,
  backend: BACKEND,
  referralContent: new Uint8Array(0),
};
const SNI = "play.example.com";
const CONTEXT = { client: "127.0.0.1:41000", route: { hostname: SNI, glob: false } };

/** The same `on_connect` request the chain sends for this player, built by hand once. */
function requestFrame(routeId: string): Uint8Array {
  const backend = { h: BACKEND.host, p: BACKEND.port, w: BACKEND.weight, m: {} };
  const data = encode({
    r: routeId,
    d: SNI,
    a: CONTEXT.client,
    md: SNI,
    u: SAMPLE_EVENT.username,
    id: SAMPLE_EVENT.uuid,
    l: SAMPLE_EVENT.language,
    c: [backend],
    s: 0,
    b: backend,
  });
  const body = encode({ t: ON_CONNECT, d: data });
  const frame = new Uint8Array(4 + body.length);
  new DataView(frame.buffer).setUint32(0, body.length);
  frame.set(body, 4);
  return frame;
}

const runtimeDir = await Deno.makeTempDir({ dir: "/tmp", prefix: "gatehouse-bench-" });
const bans = `${runtimeDir}/bans.txt`;
await Deno.writeTextFile(bans, "griefer\n");

/** The `process` section the config loader would produce for plugin `name`. */
function processSection(name: string, poolSize: number): ProcessPluginConfig["process"] {
  const socketDir = `${runtimeDir}/${name}`;
  const go = values.plugin === "go";
  return {
    command: go ? [GO_EXAMPLE] : null,
    module: go ? null : TS_EXAMPLE,
    permissions: { net: [], read: go ? [] : [bans], env: [] },
    env: go && values.gomaxprocs !== undefined ? { GOMAXPROCS: values.gomaxprocs } : {},
    config: { ban_list: bans, route_id: "lobbies", lobbies: ["10.0.0.1:5520"] },
    poolSize,
    readyTimeoutMs: 10_000,
    socketDir,
    socketPath: `${socketDir}/plugin.sock`,
    workDir: ROOT,
  };
}

/**
 * A plugin started the way the router starts it (same argv, environment and `configure`), and
 * nothing else of the router: for the `direct` client.
 */
class BarePlugin {
  readonly #child: Deno.ChildProcess;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  readonly socket: string;

  private constructor(child: Deno.ChildProcess, socket: string) {
    this.#child = child;
    this.#stdin = child.stdin.getWriter();
    this.socket = socket;
  }

  static async start(name: string): Promise<BarePlugin> {
    const p = processSection(name, 1);
    await Deno.mkdir(p.socketDir, { mode: 0o700 });
    const [program, ...args] = processArgv(p, Deno.execPath());
    const child = new Deno.Command(program!, {
      args,
      env: childEnv(p),
      clearEnv: true,
      cwd: p.workDir,
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const plugin = new BarePlugin(child, p.socketPath);
    const line = JSON.stringify({
      method: "configure",
      params: { route_id: name, socket: p.socketPath, socket_dir: p.socketDir, config: p.config },
    });
    await plugin.#stdin.write(new TextEncoder().encode(line + "\n"));
    const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!text.split("\n").some((l) => l.includes('"method":"ready"'))) {
      const { value, done } = await lines.read();
      if (done) throw new Error(`${name} exited before ready: ${text}`);
      text += value;
    }
    // Keep reading stdout (its pushes) so the plugin never blocks on a full pipe.
    (async () => {
      while (!(await lines.read()).done) { /* drain */ }
    })();
    return plugin;
  }

  async connect(): Promise<DirectClient> {
    return new DirectClient(await Deno.connect({ transport: "unix", path: this.socket }));
  }

  async stop(): Promise<void> {
    await this.#stdin.close().catch(() => {});
    await this.#child.status;
  }
}

/** One hook connection, one call at a time: write the frame, read the answer's frame. */
class DirectClient {
  readonly #conn: Deno.Conn;
  readonly #buffer = new Uint8Array(64 * 1024);

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  async call(frame: Uint8Array): Promise<unknown> {
    for (let done = 0; done < frame.length;) done += await this.#conn.write(frame.subarray(done));
    let have = 0;
    let want = 4;
    while (have < want) {
      const n = await this.#conn.read(this.#buffer.subarray(have));
      if (n === null) throw new Error("the plugin closed the connection");
      have += n;
      if (have >= 4) want = 4 + new DataView(this.#buffer.buffer).getUint32(0);
    }
    return decode(this.#buffer.subarray(4, want));
  }

  close(): void {
    this.#conn.close();
  }
}

interface Result {
  variant: string;
  calls: number;
  errors: number;
  p50_us: number;
  p99_us: number;
  calls_per_s: number;
}

/**
 * Runs `total` calls over `lanes` concurrent loops (lane `i` passes `i` to `call`); one lane is
 * a sequential run. A call that resolves `false` or throws counts as an error.
 */
async function measure(
  variant: string,
  call: (lane: number) => Promise<boolean>,
  total: number,
  lanes: number,
): Promise<Result> {
  const samples = new Float64Array(total);
  let next = 0;
  let errors = 0;
  const started = performance.now();
  async function lane(id: number): Promise<void> {
    while (next < total) {
      const i = next++;
      const t0 = performance.now();
      const ok = await call(id).catch(() => false);
      samples[i] = performance.now() - t0;
      if (!ok) errors++;
    }
  }
  await Promise.all(Array.from({ length: lanes }, (_, i) => lane(i)));
  const elapsed = performance.now() - started;
  samples.sort();
  return {
    variant,
    calls: total,
    errors,
    p50_us: quantile(samples, 0.5) * 1000,
    p99_us: quantile(samples, 0.99) * 1000,
    calls_per_s: total / (elapsed / 1000),
  };
}

const logger = new Logger({ level: "warn", format: "text" });
const chainConfig = (name: string): PluginConfig => ({
  name,
  type: "grpc", // only name, timeout and failure policy matter to a chain built from links
  stage: "deny",
  before: [],
  after: [],
  timeoutMs: TIMEOUT_MS,
  failurePolicy: "deny",
  grpc: { address: "127.0.0.1:1" },
});

/** A chain of one process plugin, loaded as the factory loads it. */
async function loadChained(name: string, poolSize: number) {
  const transport: ProcessTransport = await loadProcessPlugin({
    name,
    process: processSection(name, poolSize),
    timeoutMs: TIMEOUT_MS,
    logger,
  });
  const config = chainConfig(name);
  const chain = new PluginChain(
    [{ transport, timeoutMs: config.timeoutMs, failurePolicy: config.failurePolicy }],
    logger,
  );
  // A failed call denies (failure_policy deny): only "continue" is a served call.
  const apply = async () =>
    (await chain.apply(SNI, SAMPLE_EVENT, STATE, CONTEXT)).kind === "continue";
  return { chain, apply };
}

interface Variant {
  readonly name: string;
  readonly run: () => Promise<Result>;
}

const direct = await BarePlugin.start("direct");
const directFrame = requestFrame("direct");
const one = await direct.connect();
const many = await Promise.all(Array.from({ length: IN_FLIGHT }, () => direct.connect()));
const isAllowed = (answer: unknown) => (answer as { ok?: unknown })?.ok === true;
const sequential = await loadChained("chain", 4);
const pooled = await Promise.all(POOL_SIZES.map(async (size) => ({
  size,
  ...(await loadChained(`pool${size}`, size)),
})));

const allVariants: Variant[] = [
  {
    name: "direct",
    run: () => measure("direct", async () => isAllowed(await one.call(directFrame)), CALLS, 1),
  },
  {
    name: `direct x${IN_FLIGHT}`,
    run: () =>
      measure(
        `direct x${IN_FLIGHT}`,
        async (lane) => isAllowed(await many[lane]!.call(directFrame)),
        CALLS * 2,
        IN_FLIGHT,
      ),
  },
  { name: "chain", run: () => measure("chain", sequential.apply, CALLS, 1) },
  ...pooled.map((p) => {
    const name = `chain x${IN_FLIGHT} pool ${p.size}`;
    return { name, run: () => measure(name, p.apply, CALLS * 2, IN_FLIGHT) };
  }),
];
const variants = allVariants.filter((v) => v.name.includes(values.only ?? ""));

const rounds: Result[][] = [];
try {
  // Warm-up (JIT on both sides), discarded.
  for (const v of variants) await v.run();
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? variants : [...variants].reverse();
    const round = new Map<string, Result>();
    for (const v of order) round.set(v.name, await v.run());
    rounds.push(variants.map((v) => round.get(v.name)!));
  }
} finally {
  one.close();
  for (const c of many) c.close();
  await direct.stop();
  await sequential.chain.close();
  for (const p of pooled) await p.chain.close();
  await Deno.remove(runtimeDir, { recursive: true });
}

// Per variant, the median round (by p50) — robust against one disturbed round.
const summary = variants.map((_, v) => {
  const byP50 = rounds.map((round) => round[v]!).sort((a, b) => a.p50_us - b.p50_us);
  return byP50[Math.floor(byP50.length / 2)]!;
});
const fmt = (n: number, d = 1) => n.toFixed(d).padStart(10);
console.log(
  `${values.plugin} example${
    values.gomaxprocs !== undefined ? ` (GOMAXPROCS=${values.gomaxprocs})` : ""
  }, load average ${Deno.loadavg().join(" ")}, ${ROUNDS} rounds\n` +
    `variant                 calls  errors    p50 µs    p99 µs   calls/s`,
);
for (const s of summary) {
  console.log(
    `${s.variant.padEnd(20)}${String(s.calls).padStart(8)}${String(s.errors).padStart(8)}` +
      `${fmt(s.p50_us)}${fmt(s.p99_us)}${fmt(s.calls_per_s, 0)}`,
  );
}
const find = (name: string) => summary.find((s) => s.variant === name);
const chainP50 = find("chain")?.p50_us;
const directP50 = find("direct")?.p50_us;
const overhead = chainP50 !== undefined && directP50 !== undefined ? chainP50 - directP50 : null;
const best = summary.filter((s) => s.variant.startsWith("chain x"))
  .sort((a, b) => b.calls_per_s - a.calls_per_s)[0];
if (overhead !== null) {
  console.log(
    `overhead p50 (chain − direct): ${overhead.toFixed(1)} µs (goal ≤ 100): ` +
      `${overhead <= 100 ? "met" : "NOT met"}`,
  );
}
if (best) {
  console.log(
    `throughput, ${IN_FLIGHT} in flight, best pool (${best.variant}): ` +
      `${best.calls_per_s.toFixed(0)} calls/s (goal ≥ 20000): ` +
      `${best.calls_per_s >= 20_000 ? "met" : "NOT met"}`,
  );
}
if (values.json) {
  await Deno.writeTextFile(
    values.json,
    JSON.stringify(
      {
        plugin: values.plugin,
        loadavg: Deno.loadavg(),
        rounds,
        summary,
        overhead_us: overhead,
        best: best ? { variant: best.variant, calls_per_s: best.calls_per_s } : null,
      },
      null,
      2,
    ) + "\n",
  );
}
