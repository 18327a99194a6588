/** `admin.token_file`: read by loadConfig, a secret kept out of errors and the fingerprint. */
import assert from "node:assert/strict";
import { type Config, ConfigErrors, loadConfig } from "../../src/config/mod.ts";
import { canonicalConfig } from "../../src/config/fingerprint.ts";

const CONFIG = "/srv/gh/config.yaml";
const TEXT = 'admin:\n  listen: "0.0.0.0:9090"\n  token_file: secret/token\n';

/** A file system holding the config and, when given, the token file's text. */
function fsWith(token: string | null) {
  const read: string[] = [];
  return {
    read,
    readTextFile(p: string): Promise<string> {
      read.push(p);
      if (p === CONFIG) return Promise.resolve(TEXT);
      if (p === "/srv/gh/secret/token" && token !== null) return Promise.resolve(token);
      return Promise.reject(new Error(`No such file or directory: ${p}`));
    },
  };
}

async function rejection(token: string | null): Promise<ConfigErrors> {
  try {
    await loadConfig(CONFIG, fsWith(token));
  } catch (e) {
    if (e instanceof ConfigErrors) return e;
    throw e;
  }
  throw new assert.AssertionError({ message: "expected the config to be rejected" });
}

Deno.test("loadConfig reads the token file beside the config, without surrounding white space", async () => {
  const fs = fsWith("  s3cret-token-value\n");
  const config = await loadConfig(CONFIG, fs);
  assert.deepEqual(fs.read, [CONFIG, "/srv/gh/secret/token"]);
  assert.equal(config.admin.tokenFile, "/srv/gh/secret/token");
  assert.equal(new TextDecoder().decode(config.admin.token!), "s3cret-token-value");
});

Deno.test("a missing token file is a load error naming admin.token_file with line:col", async () => {
  const err = await rejection(null);
  assert.equal(err.errors.length, 1);
  const [e] = err.errors;
  assert.equal(e?.code, "io");
  assert.equal(e?.path, "admin.token_file");
  assert.equal(`${e?.line}:${e?.column}`, "3:15");
  assert.match(
    err.message,
    /^\/srv\/gh\/config\.yaml:3:15 admin\.token_file: cannot read token file/,
  );
});

Deno.test("an empty token file is a load error that shows no content", async () => {
  const err = await rejection(" \n\t\n");
  assert.equal(err.errors[0]?.path, "admin.token_file");
  assert.match(err.message, /token file \/srv\/gh\/secret\/token is empty/);
});

Deno.test("a token under 16 characters is a load error that shows no content", async () => {
  const err = await rejection("hunter2-hunter2\n"); // 15 characters
  assert.equal(err.errors[0]?.path, "admin.token_file");
  assert.match(err.message, /holds 15 characters; use at least 16 \(e\.g\. openssl rand -hex 32/);
  assert.ok(!err.message.includes("hunter2"), err.message);
  // 16 is enough.
  await loadConfig(CONFIG, fsWith("hunter2-hunter22"));
});

Deno.test("a token with spaces or non-ASCII characters is a load error that shows no content", async () => {
  for (const token of ["correct horse battery staple", "schlüssel-schlüssel-1"]) {
    const err = await rejection(token);
    assert.equal(err.errors[0]?.path, "admin.token_file");
    assert.match(err.message, /characters other than printable ASCII \(no spaces\)/);
    assert.ok(!err.message.includes(token.slice(0, 8)), err.message);
  }
});

Deno.test("the token is in neither the fingerprint nor its canonical text", async () => {
  const a = await loadConfig(CONFIG, fsWith("first-token-aaaa"));
  const b = await loadConfig(CONFIG, fsWith("second-token-bbbb"));
  assert.notEqual(a.sha256, null);
  assert.equal(a.sha256, b.sha256);
  const canonical = canonicalConfig(a as Config);
  assert.ok(!canonical.includes("first-token-aaaa"), canonical);
  assert.ok(!canonical.includes(Array.from(a.admin.token!, (x) => x.toString(16)).join("")));
});
