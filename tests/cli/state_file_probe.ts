/**
 * Run by state_grants_test.ts with the router's exact permission flags: saves a state through
 * the file store at `Deno.args[0]` (lock, write, rename), loads it again, then tries to write
 * the file named by `Deno.args[1]`. Prints one JSON object: what happened to each.
 */
import { FileStore } from "../../src/state/mod.ts";
import { silentLogger } from "../support/logger.ts";

const [statePath = "", other = ""] = Deno.args;
const result: Record<string, string> = {};
try {
  const store = new FileStore(statePath, { logger: silentLogger() });
  await store.save({ maintenance: null, drained: ["a.internal:5520"] });
  result.saved = (await store.load()).drained.join(",");
  await store.close();
} catch (err) {
  result.saved = `${(err as Error).name}: ${(err as Error).message}`;
}
try {
  await Deno.writeTextFile(other, "x");
  result.other = "ok";
} catch (err) {
  result.other = (err as Error).name;
}
console.log(JSON.stringify(result));
