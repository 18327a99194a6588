/**
 * Example process plugin (TypeScript, on the kit in ../process-kit): denies players whose username
 * or uuid is in a ban list file, pushes the backends of a lobby pool, and logs what happened to
 * every player. Config (the router runs it with its own Deno, with no permissions but its socket
 * and the ban list):
 *
 * ```yaml
 * plugins:
 *   - name: guard
 *     type: process
 *     stage: deny
 *     timeout: 250ms
 *     failure_policy: continue        # a broken plugin lets players in; `deny` keeps them out
 *     process:
 *       module: ./plugins/process-example/main.ts
 *       permissions: { read: ["./bans.txt"] }
 *       config:
 *         ban_list: ./bans.txt        # one username or uuid a line; `#` comments; any case
 *         ban_reason: "You are banned from this server."
 *         route_id: lobbies           # the set_targets id (default "lobbies")
 *         lobbies: ["10.0.0.1:5520", "10.0.0.2:5520"]
 * discovery:
 *   providers:
 *     - name: lobbies
 *       type: plugin
 *       plugin: { name: guard, route_id: lobbies }
 * routing:
 *   routes:
 *     - match: { hostname: play.example.com }
 *       pool: { strategy: round_robin, discovery: { provider: lobbies } }
 * ```
 *
 * `ban_list` is opened as given, from the plugin's working directory, which the router sets to the
 * config file's folder: `./bans.txt` is the same file in `permissions` and in `config`. Every reload
 * re-reads the file and pushes `lobbies` again; a reload whose file cannot be read is refused and
 * the old list stays.
 */
import { runPlugin } from "../process-kit/mod.ts";
import type { PluginConfig } from "../process-kit/mod.ts";

interface Settings {
  readonly banned: ReadonlySet<string>;
  readonly reason: string;
  readonly routeId: string;
  readonly lobbies: readonly string[];
}

/** Reads and checks everything before anything is replaced, so a bad reload changes nothing. */
async function load(config: PluginConfig): Promise<Settings> {
  const { ban_list, ban_reason, route_id, lobbies } = config;
  if (typeof ban_list !== "string") throw new Error("config.ban_list: a file path is required");
  if (!Array.isArray(lobbies) || !lobbies.every((t) => typeof t === "string")) {
    throw new Error('config.lobbies: a list of "host:port" is required');
  }
  const banned = new Set<string>();
  for (const line of (await Deno.readTextFile(ban_list)).split("\n")) {
    const entry = line.replace(/#.*/, "").trim().toLowerCase();
    if (entry) banned.add(entry);
  }
  return {
    banned,
    reason: typeof ban_reason === "string" ? ban_reason : "You are banned from this server.",
    routeId: typeof route_id === "string" ? route_id : "lobbies",
    lobbies,
  };
}

let settings: Settings;

const plugin = await runPlugin({
  async configure(config, plugin) {
    settings = await load(config);
    plugin.setTargets(settings.routeId, settings.lobbies); // at start the kit sends it after ready
    plugin.log("info", `${settings.banned.size} banned, ${settings.lobbies.length} lobbies`);
  },

  onConnect(info) {
    const hit = [info.username, info.uuid].some((id) =>
      id && settings.banned.has(id.toLowerCase())
    );
    return hit ? { ok: false, reason: settings.reason } : { ok: true };
  },

  onDisconnect(info) {
    plugin.log("info", `${info.username ?? "?"} ${info.outcome}`, {
      target: info.target,
      client: info.clientAddress,
      ms: info.durationMs,
    });
  },
});
