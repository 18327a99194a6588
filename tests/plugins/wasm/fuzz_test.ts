/**
 * Mutation fuzzing of the load-time checks: 10,000 byte-mutated copies of the example modules
 * go through `prepareModule`, and every one must either be accepted or refused with a
 * `PluginError` of kind `load` — no other exception, no hang. The rewriter itself also gets
 * every mutant, valid or not, and may only answer with a `RewriteError`. A seeded PRNG makes
 * every run the same; a failure names the seed, source and mutant index to reproduce it.
 */

import assert from "node:assert/strict";
import { PluginError } from "../../../src/plugins/transport.ts";
import { prepareModule } from "../../../src/plugins/wasm/mod.ts";
import { instrumentModule, RewriteError } from "../../../src/plugins/wasm/rewriter.ts";
import { fixture } from "./support.ts";
import { u32 as leb } from "./wasm_gen.ts";
import { prng as seeded } from "../../support/mutate.ts";

const MUTANTS = 10_000;
const SEED = 0x5eed_2026;
const ROOT = new URL("../../../", import.meta.url);
const BUILT = [
  "tests/fixtures/wasm/build/c-example.wasm",
  "tests/fixtures/wasm/build/rust-example.wasm",
  "plugins/wasm-example/plugin.wasm",
];

/** An integer in [0, n) from the shared seeded generator (the same sequence everywhere). */
function prng(seed: number): (n: number) => number {
  const next = seeded(seed);
  return (n) => next() * n | 0;
}

/** The example modules; a missing build artefact fails under CI and is skipped locally. */
async function sources(): Promise<Map<string, Uint8Array>> {
  const found = new Map<string, Uint8Array>([["hostile.wat", await fixture("hostile")]]);
  for (const path of BUILT) {
    try {
      found.set(path, await Deno.readFile(new URL(path, ROOT)));
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      const note = `${path} is missing: run \`bash .ci/setup_wasm.sh\` to build the examples`;
      if (Deno.env.get("CI") === "true") throw new Error(note);
      console.warn(`fuzz: skipping ${note}`);
    }
  }
  return found;
}

/** Start and end of every top-level section of a (well-formed) module. */
function sections(bytes: Uint8Array): [number, number][] {
  const found: [number, number][] = [];
  let pos = 8;
  while (pos < bytes.length) {
    const start = pos++;
    const { value, end } = readLeb(bytes, pos);
    pos = end + value;
    found.push([start, Math.min(pos, bytes.length)]);
  }
  return found;
}

function readLeb(bytes: Uint8Array, pos: number): { value: number; end: number } {
  let value = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    const b = bytes[pos++] ?? 0;
    value += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) break;
  }
  return { value, end: pos };
}

function splice(bytes: Uint8Array, at: number, remove: number, insert: ArrayLike<number>) {
  const out = new Uint8Array(bytes.length - remove + insert.length);
  out.set(bytes.subarray(0, at));
  out.set(insert, at);
  out.set(bytes.subarray(at + remove), at + insert.length);
  return out;
}

// Values a changed LEB takes: edges of the encodings and of the limits the loader checks.
const LEB_VALUES = [0, 1, 2, 63, 64, 127, 128, 65535, 65536, 1_000_001, 2 ** 31, 2 ** 32 - 1];

/** One mutation of `base`, chosen by `rand`; `parts` are base's sections. */
function mutate(base: Uint8Array, parts: [number, number][], rand: (n: number) => number) {
  const pick = parts[rand(parts.length)] ?? [8, base.length];
  switch (rand(5)) {
    case 0: { // flip 1–4 bytes anywhere after the header
      const out = base.slice();
      for (let k = 1 + rand(4); k > 0; k--) {
        const at = 8 + rand(out.length - 8);
        out[at] = (out[at] ?? 0) ^ (1 + rand(255));
      }
      return out;
    }
    case 1: { // flip one byte inside a chosen section (reaches the later sections as often)
      const out = base.slice();
      const at = pick[0] + rand(pick[1] - pick[0]);
      out[at] = (out[at] ?? 0) ^ (1 + rand(255));
      return out;
    }
    case 2: { // replace the LEB at a random place (counts, sizes, indices) with another value
      const at = rand(2) === 0 ? pick[0] + 1 : pick[0] + rand(pick[1] - pick[0]);
      const { value, end } = readLeb(base, at);
      const next = rand(3) === 0 ? value + (rand(2) ? 1 : -1) : LEB_VALUES[rand(LEB_VALUES.length)];
      return splice(base, at, end - at, leb(Math.max(0, next ?? 0)));
    }
    case 3: // truncate
      return base.slice(0, rand(base.length));
    default: { // duplicate a section, in place or elsewhere
      const copy = base.subarray(pick[0], pick[1]);
      const at = rand(2) === 0 ? pick[1] : (parts[rand(parts.length)] ?? pick)[0];
      return splice(base, at, 0, copy);
    }
  }
}

Deno.test("fuzz: mutated modules are accepted or refused as load errors, nothing else", async () => {
  const found = await sources();
  const rand = prng(SEED);
  const counts = { accepted: 0, refused: 0, rewritten: 0 };
  let slowest = 0;
  const started = performance.now();
  const names = [...found.keys()];
  for (let i = 0; i < MUTANTS; i++) {
    const name = names[i % names.length] as string;
    const base = found.get(name) as Uint8Array;
    const bytes = mutate(base, sections(base), rand);
    const where = `seed ${SEED}, mutant ${i} of ${name}`;
    const t = performance.now();
    try {
      instrumentModule(bytes, { maxPages: 1024 });
      counts.rewritten++;
    } catch (e) {
      if (!(e instanceof RewriteError)) assert.fail(`${where}: rewriter threw ${e}`);
    }
    try {
      await prepareModule(bytes, {
        name: "fuzz",
        path: name,
        sha256: null,
        maxMemoryBytes: 64 * 1024 * 1024,
      });
      counts.accepted++;
    } catch (e) {
      if (!(e instanceof PluginError) || e.kind !== "load") {
        assert.fail(`${where}: prepareModule threw ${e}`);
      }
      assert.match(e.message, new RegExp(`^plugin "fuzz": `));
      counts.refused++;
    }
    slowest = Math.max(slowest, performance.now() - t);
  }
  const elapsed = performance.now() - started;
  console.log(
    `fuzz: ${MUTANTS} mutants of ${names.length} modules in ${(elapsed / 1000).toFixed(1)} s ` +
      `(slowest ${slowest.toFixed(0)} ms): ${JSON.stringify(counts)}`,
  );
  assert.equal(counts.accepted + counts.refused, MUTANTS);
  // Some mutants must get past the engine's validator, or the rewriter was not exercised.
  assert.ok(counts.accepted > 0, "no mutant was accepted");
  assert.ok(slowest < 5000, `one mutant took ${slowest} ms`);
});
