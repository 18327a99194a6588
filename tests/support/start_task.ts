/** The `deno run` flags of `deno task start` (the launcher), as tests start the router with them. */

const DENO_JSON = new URL("../../deno.json", import.meta.url);

/** The flags of `deno task start`, read from deno.json: the words between `run` and the entry. */
export function startTaskFlags(): Promise<string[]> {
  return taskFlags("start");
}

/** The flags of `deno task <task>` (one that runs `src/cli/main.ts`), read from deno.json. */
export async function taskFlags(task: string): Promise<string[]> {
  const tasks = JSON.parse(await Deno.readTextFile(DENO_JSON)).tasks;
  const words = String(tasks[task]).split(/\s+/);
  return words.slice(2, words.indexOf("src/cli/main.ts"));
}
