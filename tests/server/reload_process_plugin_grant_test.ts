/**
 * A reload that adds a process plugin the running router holds no grant for — its program, its
 * socket folder and socket, PATH — is refused with a request to restart (`start` grants exactly
 * what the first config's plugins need, see `cli/sandbox.ts`); with the grants it is not.
 */
import { assertEquals } from "../support/assert.ts";

const PROBE = new URL("./ungranted_process_probe.ts", import.meta.url).pathname;
const DIR = "/tmp/gatehouse-0123456789abcdef/p";
const SOCKET = `${DIR}/plugin.sock`;

async function ungranted(program: string, flags: string[]): Promise<string[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", ...flags, PROBE, program, DIR],
    stderr: "inherit",
  }).output();
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

const refused = (what: string) =>
  `c.yaml: plugin "p" needs ${what}, which this process was not started with; restart to apply it`;

const GRANTS = [
  `--allow-read=${DIR}`,
  `--allow-write=${DIR}`,
  `--allow-net=unix:${SOCKET}`,
  "--allow-env=PATH",
];

Deno.test("reload: a process plugin needs run on its program and its socket's grants, else a restart", async () => {
  assertEquals(await ungranted("/usr/bin/guard", []), [
    refused("run access to /usr/bin/guard"),
    refused(`read access to ${DIR}`),
    refused(`write access to ${DIR}`),
    refused(`net access to unix:${SOCKET}`),
    refused("env access to PATH"),
  ]);
  assertEquals(await ungranted("/usr/bin/guard", [...GRANTS, "--allow-run=/usr/bin/guard"]), []);
  // Another program (a changed command), or the socket of another config file: not granted.
  assertEquals(await ungranted("/usr/bin/other", [...GRANTS, "--allow-run=/usr/bin/guard"]), [
    refused("run access to /usr/bin/other"),
  ]);
  const elsewhere = GRANTS.map((f) => f.replaceAll("0123456789abcdef", "fedcba9876543210"));
  assertEquals(
    (await ungranted("/usr/bin/guard", [...elsewhere, "--allow-run=/usr/bin/guard"])).length,
    3,
  );
  // A module plugin runs on Deno's executable, with the router's DENO_DIR.
  const deno = Deno.execPath();
  assertEquals(await ungranted("", GRANTS), [
    refused(`run access to ${deno}`),
    refused("env access to DENO_DIR"),
  ]);
  const moduleGrants = GRANTS.map((f) =>
    f === "--allow-env=PATH" ? "--allow-env=PATH,DENO_DIR" : f
  );
  assertEquals(await ungranted("", [...moduleGrants, `--allow-run=${deno}`]), []);
});
