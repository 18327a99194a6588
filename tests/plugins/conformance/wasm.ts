/**
 * The WASM side of the conformance table: a WAT module generated from `ANSWERS`, loaded by the
 * real loader with either isolation. The module finds `"username":"` in the request, compares
 * the name that follows with each scripted username, and answers that case's canned bytes from
 * a data segment — the ConnectResponse JSON as the table writes it, `not json {` for garbage —
 * or spins (`stall`) until the host's deadline check traps it, or traps (`fail`). Any other name is answered `{}`.
 * Canned answers are honest here: decoding and applying them is the chain's job, the same code
 * for every transport.
 */
import type { WasmIsolation } from "../../../src/config/mod.ts";
import { loadWasmPlugin } from "../../../src/plugins/wasm/mod.ts";
import type { Lines } from "../../support/child_lines.ts";
import { captureLogger } from "../wasm/support.ts";
import { wat } from "../wasm/wasm_gen.ts";
import { ANSWERS, PLUGIN } from "./cases.ts";
import type { Harness, TransportUnderTest } from "./harness.ts";

const encoder = new TextEncoder();
/** Where the data segment starts; the request is written at {@link REQUEST_AT}. */
const DATA_AT = 1024;
const REQUEST_AT = 65536;
/** Bytes a WASM plugin answers for `garbage`: not JSON. */
export const WASM_GARBAGE = "not json {";

/** `bytes` as a WAT string literal, every byte escaped. */
function literal(bytes: Uint8Array): string {
  return `"${[...bytes].map((b) => `\\${b.toString(16).padStart(2, "0")}`).join("")}"`;
}

/** The generated module's text (exported for a look at it when a case fails). */
export function conformanceWat(): string {
  const data: Uint8Array[] = [];
  let at = DATA_AT;
  const place = (bytes: Uint8Array): { at: number; len: number } => {
    data.push(bytes);
    const placed = { at, len: bytes.length };
    at += bytes.length;
    return placed;
  };
  const needle = place(encoder.encode('"username":"'));
  const empty = place(encoder.encode("{}"));
  const branches = Object.entries(ANSWERS).map(([username, answer]) => {
    const name = place(encoder.encode(username));
    const test = `(call $is (local.get $at) (local.get $end) (i32.const ${name.at}) ` +
      `(i32.const ${name.len}))`;
    if (answer.kind === "stall") return `(if ${test} (then (loop $spin (br $spin)) unreachable))`;
    if (answer.kind === "fail") return `(if ${test} (then unreachable))`;
    const body = answer.kind === "json" ? JSON.stringify(answer.doc) : WASM_GARBAGE;
    const out = place(encoder.encode(body));
    return `(if ${test} (then (return (i64.const ${packed(out)}))))`;
  });
  const joined = new Uint8Array(at - DATA_AT);
  let offset = 0;
  for (const d of data) {
    joined.set(d, offset);
    offset += d.length;
  }
  return `(module
  (memory (export "memory") 2)
  (data (i32.const ${DATA_AT}) ${literal(joined)})
  ;; One call at a time per instance: the request always goes to the same place.
  (func (export "alloc") (param i32) (result i32) (i32.const ${REQUEST_AT}))
  ;; The address just past the needle in [$ptr, $ptr + $len), or 0.
  (func $find (param $ptr i32) (param $len i32) (result i32)
    (local $i i32) (local $j i32)
    (local.set $i (local.get $ptr))
    (block $none
      (loop $scan
        (br_if $none (i32.gt_u (i32.add (local.get $i) (i32.const ${needle.len}))
          (i32.add (local.get $ptr) (local.get $len))))
        (local.set $j (i32.const 0))
        (block $miss
          (loop $cmp
            (br_if $miss (i32.ne (i32.load8_u (i32.add (local.get $i) (local.get $j)))
              (i32.load8_u (i32.add (i32.const ${needle.at}) (local.get $j)))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br_if $cmp (i32.lt_u (local.get $j) (i32.const ${needle.len}))))
          (return (i32.add (local.get $i) (i32.const ${needle.len}))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $scan)))
    (i32.const 0))
  ;; Whether the string value at $at (before $end) is exactly the $n bytes at $name.
  (func $is (param $at i32) (param $end i32) (param $name i32) (param $n i32) (result i32)
    (local $j i32)
    (if (i32.eqz (local.get $at)) (then (return (i32.const 0))))
    (if (i32.ge_u (i32.add (local.get $at) (local.get $n)) (local.get $end))
      (then (return (i32.const 0))))
    (block $differ
      (loop $cmp
        (br_if $differ (i32.ge_u (local.get $j) (local.get $n)))
        (if (i32.ne (i32.load8_u (i32.add (local.get $at) (local.get $j)))
            (i32.load8_u (i32.add (local.get $name) (local.get $j))))
          (then (return (i32.const 0))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $cmp)))
    ;; The value must end here: a closing quote.
    (i32.eq (i32.load8_u (i32.add (local.get $at) (local.get $n))) (i32.const 34)))
  (func (export "on_connect") (param $ptr i32) (param $len i32) (result i64)
    (local $at i32) (local $end i32)
    (local.set $end (i32.add (local.get $ptr) (local.get $len)))
    (local.set $at (call $find (local.get $ptr) (local.get $len)))
    ${branches.join("\n    ")}
    (i64.const ${packed(empty)})))`;
}

// The ABI's answer: pointer in the high 32 bits, length in the low (docs/plugins.md §5.1).
function packed({ at, len }: { at: number; len: number }): string {
  return ((BigInt(at) << 32n) | BigInt(len)).toString();
}

/** The WASM transport with `isolation` (`worker`: threads of this process; `process`: a child). */
export function wasmTransport(isolation: WasmIsolation): TransportUnderTest {
  const bytes = wat(conformanceWat());
  return {
    name: `wasm (isolation: ${isolation})`,
    countsRestarts: isolation === "process",
    ...(isolation === "worker"
      ? {
        notApplicable: {
          gone: "its workers are threads of the router's own process; nothing of the plugin " +
            "can be gone while the router runs (a dead worker is replaced by the host: " +
            "tests/plugins/wasm/isolation_test.ts)",
        },
      }
      : {}),
    async start(): Promise<Harness> {
      const { logger, log } = captureLogger();
      const transport = await loadWasmPlugin({
        name: PLUGIN,
        path: "conformance.wasm",
        sha256: null,
        config: {},
        maxMemoryBytes: 16 * 1024 * 1024,
        timeoutMs: 1_000,
        // Generous: a loaded CI machine has taken over 5 s to boot the first workers.
        initTimeoutMs: 30_000,
        instances: 2,
        // The table's failures must not add up to an open breaker, whatever the rows' order: the
        // breaker is the WASM host's own (tests/plugins/wasm/breaker_test.ts), not the contract.
        breaker: { failureThreshold: 1_000 },
        isolation,
        logger,
        readFile: () => Promise.resolve(bytes),
      });
      return {
        transport,
        stop: () => killChild(transport, log),
        restart: async () => {
          await log.next(/"msg":"plugin process restarted"/, 15_000);
        },
        close: () => transport.close(),
      };
    },
  };
}

// SIGKILLs the child of `isolation: process` (its public pid, for diagnostics and tests) and
// awaits the host's note that it exited.
async function killChild(transport: object, log: Lines): Promise<void> {
  const pid = (transport as { readonly pid?: number | null }).pid;
  if (pid === undefined || pid === null) throw new Error("no child process to kill");
  Deno.kill(pid, "SIGKILL");
  await log.next(/"msg":"plugin process exited; restarting it"/, 10_000);
}
