/**
 * The real plugin worker, booting a second late (`slow_boot.ts` evaluates first, ES module
 * order): for the test that a slow boot does not count against the instance's `init` budget.
 */
import "./slow_boot.ts";
import "../../../src/plugins/wasm/worker.ts";
