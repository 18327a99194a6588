/**
 * The config fingerprint (`Config.sha256`, shown as `gatehouse_config_info{sha256}`): taken over
 * the parsed config with secrets replaced, so it identifies the config in force without letting a
 * /metrics reader test guesses at `referral.hmac_secret` (issue 12).
 */
import assert from "node:assert/strict";
import { type Config, loadConfig, parseConfig } from "../../src/config/mod.ts";
import { canonicalConfig, configFingerprint } from "../../src/config/fingerprint.ts";
import { isSecretKey, REDACTED } from "../../src/config/secrets.ts";
import { lines } from "./expect_errors.ts";

/** `loadConfig` of `text` as the file `name`, through a fake file system. */
function load(text: string, name = "/etc/gatehouse/config.yaml"): Promise<Config> {
  return loadConfig(name, { readTextFile: () => Promise.resolve(text) });
}

const BASE = lines(
  "listen: '127.0.0.1:6000'",
  "referral:",
  "  key_id: 7",
  "  hmac_secret: 'correct horse battery staple'",
  "routing:",
  "  default: { strategy: round_robin, backends: [{ host: a.internal, port: 5520 }] }",
);

Deno.test("configs that differ only in hmac_secret have the same fingerprint", async () => {
  const a = await load(BASE);
  const b = await load(BASE.replace("correct horse battery staple", "Tr0ub4dor&3"));
  const c = await load(BASE.replace("'correct horse battery staple'", "'hex:00ff10'"));
  assert.match(a.sha256 ?? "", /^[0-9a-f]{64}$/);
  assert.equal(b.sha256, a.sha256);
  assert.equal(c.sha256, a.sha256);
  assert.notDeepEqual(a.referral.hmacSecret, b.referral.hmacSecret, "the secrets do differ");
  // Whether envelopes are signed is not secret, and is part of what the config says.
  const unsigned = await load(BASE.replace(/^ {2}hmac_secret:.*\n/m, ""));
  assert.notEqual(unsigned.sha256, a.sha256);
});

Deno.test("the canonical rendering holds no secret however the file spells or writes it", () => {
  const secret = "s3cret-in-a-comment";
  const spellings = [
    lines("referral:", `  hmac_secret: ${secret} # ${secret}`),
    lines(`# old: hmac_secret: ${secret}`, "referral:", `  hmac_secret: "${secret}"`),
    lines("referral:", "  hmac_secret: |", `    ${secret}`),
    lines(
      "referral:",
      `  hmac_secret: "${[...secret].map((c) => `\\x${c.charCodeAt(0).toString(16)}`).join("")}"`,
    ),
    lines("referral:", `  hmac_secret: 'base64:${btoa(secret)}'`),
  ];
  for (const text of spellings) {
    const config = parseConfig(text, "c.yaml");
    const rendering = canonicalConfig(config);
    assert.ok(!rendering.includes(secret), rendering);
    assert.ok(!rendering.includes(btoa(secret)), rendering);
    assert.ok(rendering.includes(`"hmacSecret":"${REDACTED}"`), rendering);
  }
  // JSON matches keys case-insensitively: the redaction follows the meaning, not the spelling.
  const json = parseConfig(`{"Referral": {"HMAC_Secret": "${secret}"}}`, "c.json");
  assert.equal(canonicalConfig(json), canonicalConfig(parseConfig(spellings[0]!, "c.yaml")));
});

Deno.test("credential-like keys of free-form plugin config are redacted too", async () => {
  const plugin = (config: string) =>
    lines(
      "plugins:",
      "  - name: bans",
      "    type: wasm",
      "    stage: deny",
      "    wasm:",
      "      path: bans.wasm",
      `      config: ${config}`,
    );
  const a = await load(plugin("{ api_key: k-111, auth: { token: t-1 }, region: eu }"));
  const b = await load(plugin("{ api_key: k-222, auth: { token: t-2 }, region: eu }"));
  const c = await load(plugin("{ api_key: k-111, auth: { token: t-1 }, region: us }"));
  assert.equal(b.sha256, a.sha256);
  assert.notEqual(c.sha256, a.sha256, "ordinary settings still count");
  const rendering = canonicalConfig(a);
  for (const value of ["k-111", "t-1"]) assert.ok(!rendering.includes(value), rendering);
});

Deno.test("every credential-like key name is a secret", () => {
  for (const key of ["Authorization", "passphrase", "db_pwd", "hmac", "signing_key", "x-api-key"]) {
    assert.ok(isSecretKey(key), key);
  }
  for (const key of ["region", "timeout", "max_players"]) assert.ok(!isSecretKey(key), key);
});

Deno.test("the fingerprint follows meaning: formatting, comments, key order and the file name do not count", async () => {
  const reordered = lines(
    "# routing first this time",
    "routing:",
    "  default:",
    "    backends: [{ port: 5520, host: a.internal }]",
    "    strategy: round_robin",
    "referral: { hmac_secret: 'correct horse battery staple', key_id: 7 }",
    'listen: "127.0.0.1:6000"',
  );
  const a = await load(BASE);
  assert.equal((await load(reordered, "/other/place.yaml")).sha256, a.sha256);
  const json = JSON.stringify({
    listen: "127.0.0.1:6000",
    referral: { key_id: 7, hmac_secret: "x" },
    routing: {
      default: { strategy: "round_robin", backends: [{ host: "a.internal", port: 5520 }] },
    },
  });
  assert.equal((await load(json, "/etc/gatehouse/config.json")).sha256, a.sha256);
  // Anything that changes how the config loads changes the fingerprint.
  for (const [from, to] of [["key_id: 7", "key_id: 8"], ["a.internal", "b.internal"]] as const) {
    assert.notEqual((await load(BASE.replace(from, to))).sha256, a.sha256, `${from} → ${to}`);
  }
});

Deno.test("the fingerprint is sha256 of the canonical rendering", async () => {
  const config = await load("listen: '127.0.0.1:6000'\n");
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(canonicalConfig(config)),
  );
  assert.equal(config.sha256, new Uint8Array(digest).toHex());
  assert.equal(await configFingerprint(config), config.sha256);
  assert.equal(parseConfig("listen: '127.0.0.1:6000'\n", "x.yaml").sha256, null);
});

Deno.test("the canonical rendering, pinned on a synthetic config (not the schema's defaults)", () => {
  // A change here changes every deployment's value: make it on purpose.
  const synthetic = {
    source: "left/out.yaml",
    sha256: "left out",
    z: [3, "b", null, Infinity, NaN],
    a: new Map<string, unknown>([["y", 1], ["x", new Set(["q", "p"])]]),
    m: Object.assign(Object.create(null), { hmacSecret: new Uint8Array([1]), off: undefined }),
    bytes: new Uint8Array([0, 255]),
    nested: { api_key: null, auth_token: ["t"], password: { deep: "p" } },
  } as unknown as Config;
  assert.equal(
    canonicalConfig(synthetic),
    '{"a":{"x":["p","q"],"y":1},"bytes":"hex:00ff",' +
      `"m":{"hmacSecret":"${REDACTED}"},` +
      `"nested":{"api_key":null,"auth_token":"${REDACTED}","password":"${REDACTED}"},` +
      '"z":[3,"b",null,"Infinity","NaN"]}',
  );
  assert.throws(
    () => canonicalConfig({ f: () => 1 } as unknown as Config),
    (e: unknown) => e instanceof TypeError && /no canonical form for \.f/.test(e.message),
  );
});
