/**
 * Run by sandbox_test.ts with the router's exact permission flags: tries to read each path given
 * and prints one JSON object mapping the path to "ok" or the error's name.
 */
const result: Record<string, string> = {};
for (const path of Deno.args) {
  try {
    await Deno.readFile(path);
    result[path] = "ok";
  } catch (err) {
    result[path] = (err as Error).name;
  }
}
console.log(JSON.stringify(result));
