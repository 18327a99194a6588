/**
 * A kubeconfig holds credentials (bearer tokens, client keys): its parse errors name the place
 * (line and column), never the text there (issue 12).
 */
import assert from "node:assert/strict";
import { KubeConfigError, resolveKubeconfig } from "../../../src/discovery/kube/kubeconfig.ts";

const TOKEN = "eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LXBheWxvYWQ.sig";

Deno.test("kubeconfig YAML errors say where, without quoting the line (it may hold a token)", () => {
  const head = "apiVersion: v1\ncurrent-context: c\nusers:\n- name: u\n  user:\n";
  const cases: Array<[string, RegExp]> = [
    [`${head}    token: "${TOKEN}\n    x: 1\n`, /Missing closing "quote at line 8, column 1$/],
    [`${head}    token: ${TOKEN}: x\n`, /compact mappings at line 6, column 12$/],
    [`${head}    client-key-data: [${TOKEN}\n`, /at line \d+, column \d+$/],
  ];
  for (const [text, expected] of cases) {
    assert.throws(() => resolveKubeconfig(text, "/k/config"), (err: unknown) => {
      assert.ok(err instanceof KubeConfigError);
      assert.equal(err.code, "parse");
      assert.match(err.message, /^kubeconfig \/k\/config: not valid YAML: /);
      assert.match(err.message, expected);
      assert.ok(!err.message.includes(TOKEN.slice(0, 12)), err.message);
      return true;
    });
  }
});
