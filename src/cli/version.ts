/**
 * Gatehouse's version as `deno.json` states it (shown by `/api/v1/status`). A constant rather than
 * an import of `deno.json`, so the bundle carries no config file; `tests/cli/version_test.ts`
 * keeps the two equal.
 */
export const VERSION = "0.1.0";
