import { dirname, resolve } from "node:path";
import { readAccess } from "./access.ts";
import { checkPluginProviders, type PluginProviderRef, readDiscovery } from "./discovery.ts";
import { ConfigError, ConfigErrors } from "./errors.ts";
import { Reader } from "./fields.ts";
import { configFingerprint } from "./fingerprint.ts";
import { deepFreeze } from "./freeze.ts";
import { readMaintenance } from "./maintenance.ts";
import { readMessages } from "./messages.ts";
import type { ProviderRef } from "./pool.ts";
import { readPlugins } from "./plugins.ts";
import { runtimeDirOf } from "./process_plugin.ts";
import { readRouting } from "./routing.ts";
import { scrubSecrets, secretTexts } from "./secrets.ts";
import { readSettings, type SettingsPositions } from "./settings.ts";
import { formatOf, readSource } from "./source.ts";
import { didYouMean } from "./suggest.ts";
import type { Config } from "./types.ts";

const TOP_LEVEL_KEYS = [
  "listen",
  "tls",
  "quic",
  "logging",
  "routing",
  "referral",
  "messages",
  "plugins",
  "discovery",
  "admin",
  "limits",
  "access",
  "maintenance",
];

/**
 * Parses and validates a config text; see `mod.ts`. `sha256` is the config's fingerprint when
 * known (`fingerprint.ts`; `loadConfig` computes it). `source`, resolved against the working
 * directory, is where process plugins' relative paths and socket names derive from.
 */
export function parseConfig(text: string, source: string, sha256: string | null = null): Config {
  return parseWithPositions(text, source, sha256).config;
}

/** {@link parseConfig}, plus where the values `loadConfig` checks afterwards were written. */
function parseWithPositions(
  text: string,
  source: string,
  sha256: string | null,
): { config: Config; positions: SettingsPositions } {
  const positions: SettingsPositions = {};
  const doc = readSource(text, source);
  const r = new Reader(source, doc.format);
  const root = doc.root === null ? undefined : r.object(doc.root, "", TOP_LEVEL_KEYS);
  const refs: ProviderRef[] = [];
  const pluginRefs: PluginProviderRef[] = [];
  const processCtx = { configDir: dirname(resolve(source)), runtimeDir: runtimeDirOf(source) };
  const config: Config = {
    source,
    sha256,
    ...readSettings(r, root, processCtx.configDir, positions),
    routing: readRouting(r, root?.get("routing"), "routing", refs),
    messages: readMessages(r, root?.get("messages"), "messages"),
    plugins: readPlugins(r, root?.get("plugins"), processCtx),
    discovery: readDiscovery(r, root?.get("discovery"), pluginRefs),
    access: readAccess(r, root?.get("access")),
    maintenance: readMaintenance(r, root?.get("maintenance"), "maintenance"),
  };
  checkProviders(r, refs, new Set(config.discovery.providers.map((p) => p.name)));
  checkPluginProviders(r, pluginRefs, config.plugins);
  if (r.errors.length > 0) {
    const secrets = secretTexts(doc.root);
    throw new ConfigErrors(r.errors.map((e) => scrubSecrets(e, secrets)));
  }
  return { config: deepFreeze(config), positions };
}

/** Reads and parses a config file; see `mod.ts`. */
export async function loadConfig(
  path: string,
  fs: { readTextFile(p: string): Promise<string> } = Deno,
): Promise<Config> {
  const format = formatOf(path);
  if (format instanceof ConfigError) throw new ConfigErrors([format]);
  let text: string;
  try {
    text = await fs.readTextFile(path);
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    throw new ConfigErrors([
      new ConfigError({ code: "io", source: path, detail: `cannot read config file: ${reason}` }),
    ]);
  }
  const { config, positions } = parseWithPositions(text, path, null);
  const token = await readToken(config, positions, path, fs);
  // Everything below the top level is frozen already; the token is redacted from the fingerprint.
  const withToken = { ...config, admin: Object.freeze({ ...config.admin, token }) };
  return Object.freeze({ ...withToken, sha256: await configFingerprint(withToken) });
}

/**
 * The admin token file's text without surrounding white space (a trailing newline is usual).
 * The error names the file and `admin.token_file`, never what the file holds.
 */
async function readToken(
  config: Config,
  positions: SettingsPositions,
  source: string,
  fs: { readTextFile(p: string): Promise<string> },
): Promise<Uint8Array | null> {
  const file = config.admin.tokenFile;
  if (file === null) return null;
  const fail = (detail: string) =>
    new ConfigErrors([
      new ConfigError({
        code: "io",
        source,
        path: "admin.token_file",
        position: positions.tokenFile ?? null,
        detail,
      }),
    ]);
  let text: string;
  try {
    text = await fs.readTextFile(file);
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    throw fail(`cannot read token file ${file}: ${reason}`);
  }
  const token = text.trim();
  if (token === "") throw fail(`token file ${file} is empty`);
  // The token guards player data and every change, and the API does not slow down guesses:
  // refuse one short enough to guess (the length only; say how to make a random one).
  // A browser sends only printable ASCII in a header: the console could never log in with more.
  if (!/^[\x21-\x7e]+$/.test(token)) {
    throw fail(`token file ${file} holds characters other than printable ASCII (no spaces)`);
  }
  if (token.length < MIN_TOKEN_CHARS) {
    throw fail(
      `token file ${file} holds ${token.length} characters; use at least ${MIN_TOKEN_CHARS} ` +
        `(e.g. openssl rand -hex 32 > ${file})`,
    );
  }
  return new TextEncoder().encode(token);
}

/** Shortest admin token accepted. */
const MIN_TOKEN_CHARS = 16;

function checkProviders(
  r: Reader,
  refs: readonly ProviderRef[],
  providers: ReadonlySet<string>,
): void {
  for (const ref of refs) {
    if (providers.has(ref.provider)) continue;
    const hint = providers.size === 0
      ? "no discovery providers are configured"
      : didYouMean(ref.provider, [...providers]);
    r.report(
      "reference",
      ref.path,
      ref.position,
      `unknown discovery provider "${ref.provider}"`,
      hint,
    );
  }
}
