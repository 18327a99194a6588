/**
 * Hostile modules against the load-time limits, through the real loader and worker host: what a
 * module declares (tables, memories, segments, threads, size) is bounded or refused at load,
 * and what it does in straight-line code is stopped at its deadline. The big modules are
 * generated here; the fixtures stay small.
 */

import assert from "node:assert/strict";
import { PluginError } from "../../../src/plugins/transport.ts";
import { loadWasmPlugin } from "../../../src/plugins/wasm/mod.ts";
import { captureLogger, load, req, text } from "./support.ts";
import { insertSection, pluginWat, rawPlugin, section, u32, wat } from "./wasm_gen.ts";
import { threadCount } from "../../support/process_router.ts";

const MiB = 1024 * 1024;

async function loadError(
  name: string,
  bytes: Uint8Array,
  overrides: Parameters<typeof load>[2] = {},
): Promise<PluginError> {
  try {
    const p = await load(name, bytes, overrides);
    await p.close();
  } catch (e) {
    assert.ok(e instanceof PluginError, `not a PluginError: ${e}`);
    assert.equal(e.kind, "load");
    assert.equal(e.plugin, name);
    assert.ok(e.message.startsWith(`plugin "${name}": ${name}.wasm: `), e.message);
    return e;
  }
  throw new Error(`${name} loaded`);
}

const threads = () => threadCount(Deno.pid);

Deno.test("limits: a table-grow bomb gets -1 and the router stays bounded", async () => {
  // Two tables with no maximum: by the documented rule (index order) the funcref table may grow
  // to the whole 65,536 and the externref table not at all. Each call asks for 4 million more
  // elements of both, then grows the funcref table one element at a time until refused.
  const bytes = wat(pluginWat(
    `(i32.store (i32.const 2048) (table.grow $f (ref.null func) (i32.const 4000000)))
     (i32.store (i32.const 2052) (table.grow $e (ref.null extern) (i32.const 4000000)))
     (block $full (loop $more
       (br_if $full (i32.eq (table.grow $f (ref.null func) (i32.const 1)) (i32.const -1)))
       (br $more)))
     (i32.store (i32.const 2056) (table.size $f))
     (i32.store (i32.const 2060) (table.size $e))
     (return (i64.or (i64.shl (i64.const 2048) (i64.const 32)) (i64.const 16)))`,
    `(table $f 1 funcref) (table $e 0 externref)`,
  ));
  const p = await load("tablebomb", bytes, { instances: 2, timeoutMs: 2000 });
  try {
    const answer = async () => {
      const view = new DataView((await p.call(req("{}"), 2000)).buffer);
      return [0, 4, 8, 12].map((at) => view.getInt32(at, true));
    };
    assert.deepEqual(await answer(), [-1, -1, 65536, 0]);
    const rss = Deno.memoryUsage().rss;
    const before = await threads();
    for (let i = 0; i < 20; i++) {
      const [grewF, grewE, sizeF, sizeE] = await answer();
      assert.deepEqual([grewF, grewE, sizeE], [-1, -1, 0]);
      assert.equal(sizeF, 65536);
    }
    const grown = Deno.memoryUsage().rss - rss;
    // Without the cap each call grew the tables by 4 million elements (32 MiB each, until V8's
    // 10 million per table): hundreds of MiB within 20 calls.
    assert.ok(grown < 64 * MiB, `RSS grew by ${(grown / MiB).toFixed(1)} MiB`);
    const after = await threads();
    assert.ok(after <= before + 1, `threads ${before} -> ${after}`);
  } finally {
    await p.close();
  }
});

Deno.test("limits: threads are refused at load (shared memory, atomic wait)", async () => {
  const wait = "(drop (memory.atomic.wait32 (i32.const 0) (i32.const 0) (i64.const -1)))";
  const shared = await loadError(
    "waiter",
    wat(pluginWat(wait, "", `(memory (export "memory") 1 1 shared)`)),
  );
  assert.match(shared.message, /declares a shared memory \(threads are not supported\)$/);
  // Unshared, a wait would only trap; it is still refused, naming the instruction and where.
  const unshared = await loadError("waiter", wat(pluginWat(wait)));
  assert.match(
    unshared.message,
    /uses memory\.atomic\.wait32 in code body 1 \(threads are not supported\)$/,
  );
});

Deno.test("limits: straight-line bulk operations stop at the deadline, and so does the worker", async () => {
  // 2,000 operations over the whole 64 MiB memory in one function body: no loop, no call —
  // only the checks before bulk operations can stop it (~20 s of work otherwise).
  const ops: string[] = [];
  for (let i = 0; i < 1000; i++) {
    ops.push(`(memory.fill (i32.const 0) (i32.const ${i & 0xff}) (i32.const ${64 * MiB}))`);
    ops.push(`(memory.copy (i32.const 0) (i32.const ${32 * MiB}) (i32.const ${32 * MiB}))`);
  }
  const bytes = wat(pluginWat(
    `(if (i32.eq (i32.load8_u (local.get $ptr)) (i32.const 66)) (then (call $bulk)))`,
    `(func $bulk ${ops.join("\n")})`,
    `(memory (export "memory") 1024)`,
  ));
  const timeoutMs = 200;
  const graceMs = 1000;
  const p = await load("bulk", bytes, {
    instances: 1,
    timeoutMs,
    maxMemoryBytes: 64 * MiB,
    terminateGraceMs: graceMs,
  });
  try {
    const started = performance.now();
    const e = await p.call(req("B"), timeoutMs).catch((e) => e);
    const failedAt = performance.now();
    assert.ok(e instanceof PluginError, String(e));
    assert.equal(e.kind, "timeout");
    assert.ok(failedAt - started < timeoutMs + 100, `failed after ${failedAt - started} ms`);
    // The one worker must have stopped by itself (trapped at the next check) to serve this;
    // had it kept filling, only the terminate after the grace would free it.
    assert.equal(text(await p.call(req("{}"), 5000)), "{}");
    const servedAfter = performance.now() - failedAt;
    assert.ok(servedAfter < graceMs / 2, `next call served ${servedAfter} ms after the timeout`);
  } finally {
    await p.close();
  }
});

Deno.test("limits: memories together above max_memory are refused", async () => {
  const memories = Array.from({ length: 7 }, () => "(memory 512)").join(" ");
  const e = await loadError(
    "memories",
    wat(pluginWat("", memories, `(memory (export "memory") 512)`)),
    { maxMemoryBytes: 64 * MiB },
  );
  assert.match(
    e.message,
    /memories start at 256 MiB together \(8 memories\), above max_memory \(64 MiB\)$/,
  );
});

Deno.test("limits: a memory that starts at 65,536 pages is refused", async () => {
  const bytes = wat(pluginWat("", "", `(memory (export "memory") 65536)`));
  const e = await loadError("whole", bytes);
  assert.match(e.message, /memory 0 starts at 65536 pages \(4 GiB\)/);
  // Even when max_memory is the whole 4 GiB.
  const atMax = await loadError("whole", bytes, { maxMemoryBytes: 4 * 1024 * MiB });
  assert.match(atMax.message, /memory 0 starts at 65536 pages \(4 GiB\)/);
});

Deno.test("limits: a table that starts above max_table_elements is refused", async () => {
  const bytes = wat(pluginWat("", "(table 100000 funcref)"));
  const e = await loadError("bigtable", bytes);
  assert.match(e.message, /table 0 starts at 100000 elements, above max_table_elements \(65536\)$/);
  const configured = await loadError("bigtable", wat(pluginWat("", "(table 11 funcref)")), {
    maxTableElements: 10,
  });
  assert.match(
    configured.message,
    /table 0 starts at 11 elements, above max_table_elements \(10\)/,
  );
});

Deno.test("limits: element-segment bombs are refused", async () => {
  const base = wat(pluginWat(""));
  // One passive segment of 2 million references to function 0 (2 MB of module).
  const items = 2_000_000;
  const bomb = new Uint8Array([1, 1, 0, ...u32(items), ...new Uint8Array(items)]);
  const e = await loadError("elembomb", insertSection(base, section(9, bomb)));
  assert.match(e.message, /has 2000000 element segment items, above the limit of 1000000/);
  // 20,000 empty passive segments.
  const many = new Uint8Array([...u32(20_000), ...new Array(20_000).fill([1, 0, 0]).flat()]);
  const m = await loadError("elembomb", insertSection(base, section(9, many)));
  assert.match(m.message, /has 20000 element segments, above the limit of 10000/);
});

Deno.test("limits: 10,000 nested blocks load and work (or fail cleanly)", async () => {
  const depth = 10_000;
  const blocks = new Uint8Array(depth * 3);
  for (let i = 0; i < depth; i++) blocks.set([0x02, 0x40], i * 2); // block (no result)
  blocks.fill(0x0b, depth * 2); // end
  const bytes = rawPlugin(blocks);
  try {
    const p = await load("nested", bytes);
    try {
      assert.equal(text(await p.call(req("{}"), 2000)), "{}");
    } finally {
      await p.close();
    }
  } catch (e) {
    assert.ok(e instanceof PluginError && e.kind === "load", String(e));
  }
});

Deno.test("limits: a module above max_module_size is refused", async () => {
  const bytes = wat(
    pluginWat(`(drop (i32.const 0))`, "(data (i32.const 4096) " + `"${"x".repeat(3000)}")`),
  );
  const e = await loadError("huge", bytes, { maxModuleBytes: 2048 });
  assert.match(e.message, /module is 3\.\d KiB, above max_module_size \(2 KiB\)$/);
  // From a file: the size is known before reading (a sparse 40 MiB file costs no disk).
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/big.wasm`;
    await Deno.writeFile(path, bytes);
    await Deno.truncate(path, 40 * MiB);
    const fromFile = await loadWasmPlugin({
      name: "huge",
      path,
      sha256: null,
      config: {},
      maxMemoryBytes: 16 * MiB,
      timeoutMs: 200,
      logger: captureLogger().logger,
    }).then(() => assert.fail("loaded"), (e) => e);
    assert.ok(fromFile instanceof PluginError && fromFile.kind === "load", String(fromFile));
    assert.equal(
      fromFile.message,
      `plugin "huge": ${path}: module is 40 MiB, above max_module_size (32 MiB)`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "limits: a module file that never ends (a FIFO) is cut off at max_module_size",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    const dir = await Deno.makeTempDir();
    const path = `${dir}/endless.wasm`;
    try {
      const made = await new Deno.Command("mkfifo", { args: [path] }).output();
      assert.ok(made.success, "mkfifo failed");
      // The writer feeds 64 KiB chunks until the loader stops reading and closes its end.
      const writer = (async () => {
        using fifo = await Deno.open(path, { write: true });
        const chunk = new Uint8Array(65536);
        for (;;) await fifo.write(chunk);
      })().catch(() => {});
      const e = await loadWasmPlugin({
        name: "endless",
        path,
        sha256: null,
        config: {},
        maxMemoryBytes: 16 * MiB,
        maxModuleBytes: MiB,
        timeoutMs: 200,
        logger: captureLogger().logger,
      }).then(() => assert.fail("loaded"), (e) => e);
      assert.ok(e instanceof PluginError && e.kind === "load", String(e));
      assert.equal(
        e.message,
        `plugin "endless": ${path}: module is over max_module_size (1 MiB)`,
      );
      await writer;
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
