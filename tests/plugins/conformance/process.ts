/**
 * The process side of the conformance table: tests/fixtures/process/fake_plugin.ts run as a
 * `module` plugin by the real transport, scripted through its `config` (`answers`: the table's
 * `ANSWERS`, which it sends back in the hooks' msgpack keys). Taken away, the process is
 * SIGKILLed; it comes back because its supervisor restarts it.
 */
import { ANSWERS, PLUGIN } from "./cases.ts";
import { loadFake } from "../process/support.ts";
import type { Harness, TransportUnderTest } from "./harness.ts";

/** The process transport against the scripted fake plugin. */
export function processTransport(): TransportUnderTest {
  return {
    name: "process",
    countsRestarts: true,
    notApplicable: {
      fail: "the hooks' contract (prox's ConnResult) has no failure answer: a process plugin " +
        "answers a verdict, answers garbage (bad_response), or drops the call (unavailable)",
    },
    async start(): Promise<Harness> {
      const fake = await loadFake({
        name: PLUGIN,
        config: { answers: ANSWERS },
        timeoutMs: 1_000,
      });
      const { plugin, log } = fake;
      return {
        transport: plugin,
        stop: async () => {
          const pid = plugin.pid;
          if (pid === null) throw new Error(`plugin "${PLUGIN}" has no process to kill`);
          Deno.kill(pid, "SIGKILL");
          await log.next(/"msg":"plugin process exited; restarting it"/, 10_000);
        },
        restart: async () => {
          await log.next(/"msg":"plugin process ready"/, 15_000);
        },
        close: () => fake.close(),
      };
    },
  };
}
