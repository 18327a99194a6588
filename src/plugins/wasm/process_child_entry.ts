/**
 * Main module of a plugin's child process when Gatehouse runs from source (`ProcessHost` starts
 * `deno run <no permissions> process_child_entry.ts`); the bundle runs itself with a hidden
 * command instead. Exits explicitly: nothing the host leaves behind may keep the process alive.
 *
 * @module
 */
import { runProcessChild } from "./process_child.ts";

Deno.exit(await runProcessChild());
