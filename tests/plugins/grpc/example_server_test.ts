/**
 * The grpc-js example plugin (plugins/grpc-example/server.ts) in its own process: the plugin's
 * behaviour, both content types (`application/grpc+json` from Gatehouse and the Go router,
 * plain `application/grpc` from the Go peer's client in legacy mode), and that it keeps serving
 * after clients close gracefully — the situation in which a grpc-js server under Deno once
 * aborted with `free(): invalid pointer`.
 */
import assert from "node:assert/strict";
import { createGrpcPlugin } from "../../../src/plugins/grpc/mod.ts";
import { onConnect } from "../../../plugins/grpc-example/handler.ts";
import { GO_PEER, goClientCall, startExampleServer } from "./peers.ts";
import { silentLogger } from "../../support/logger.ts";
import { testRequiring } from "../../support/requires.ts";

const logger = silentLogger();
const encode = (s: string) => new TextEncoder().encode(s);
const decode = (b: Uint8Array) => new TextDecoder().decode(b);
const request = (username: string, sni: string) =>
  encode(
    JSON.stringify({
      event: { sni, username, uuid: "u" },
      strategy: "random",
      candidates: null,
      selected_index: -1,
    }),
  );

const ROUTED =
  '{"backend":{"host":"play.example.com","port":5520},"referral_content":"Z3JwYy1wbHVnaW4="}';
const DENIED =
  '{"deny":true,"deny_reason":"denied by grpc plugin","referral_content":"Z3JwYy1wbHVnaW4="}';
const PLAIN = '{"referral_content":"Z3JwYy1wbHVnaW4="}';

Deno.test("grpc/example handler: deny in any case, grpc SNI routed, referral always", () => {
  assert.deepEqual(onConnect({ event: { username: "DENY", sni: "grpc.x" } }), {
    deny: true,
    deny_reason: "denied by grpc plugin",
    referral_content: "Z3JwYy1wbHVnaW4=",
  });
  assert.deepEqual(onConnect({ event: { username: "bob", sni: "my-grpc-net" } }), {
    backend: { host: "play.example.com", port: 5520 },
    referral_content: "Z3JwYy1wbHVnaW4=",
  });
  assert.deepEqual(onConnect({ event: null }), { referral_content: "Z3JwYy1wbHVnaW4=" });
  assert.deepEqual(onConnect({}), { referral_content: "Z3JwYy1wbHVnaW4=" });
});

Deno.test("grpc/example server: Gatehouse's client (+json) gets exact answers; survives clients closing", async () => {
  const server = await startExampleServer();
  try {
    // Several clients in a row, each closing gracefully after 150+ calls.
    for (const calls of [150, 151, 300]) {
      const plugin = createGrpcPlugin({
        name: "example",
        address: server.address,
        timeoutMs: 2000,
        logger,
      });
      try {
        for (let i = 0; i < calls; i++) {
          const username = i % 3 === 0 ? "Deny" : `user${i}`;
          const answer = decode(
            await plugin.call(request(username, "grpc.example.com"), 2000).catch((e) => {
              throw new Error(`call ${i} of ${calls}: ${e}`);
            }),
          );
          assert.equal(answer, i % 3 === 0 ? DENIED : ROUTED);
        }
        assert.equal(decode(await plugin.call(request("bob", "play.example.com"), 2000)), PLAIN);
        const burst = await Promise.all(
          Array.from({ length: 16 }, (_, i) => plugin.call(request(`b${i}`, "grpc"), 2000)),
        );
        for (const answer of burst) assert.equal(decode(answer), ROUTED);
      } finally {
        await plugin.close();
      }
    }
  } finally {
    const { log } = await server.stop("SIGKILL");
    assert.doesNotMatch(log, /free\(\)|panic|Uncaught/, log);
  }
});

testRequiring(
  GO_PEER,
  "grpc/example server: plain application/grpc and +json from the Go client",
  async () => {
    const server = await startExampleServer();
    try {
      // -legacy: grpc-go 1.33 then sends plain application/grpc.
      assert.equal(await goClientCall(server.address, ["-legacy", "-user", "deny"]), DENIED);
      assert.equal(await goClientCall(server.address, ["-legacy", "-sni", "x"]), PLAIN);
      assert.equal(await goClientCall(server.address, ["-user", "DENY"]), DENIED);
      assert.equal(await goClientCall(server.address, []), ROUTED);
    } finally {
      const { log } = await server.stop("SIGTERM");
      assert.doesNotMatch(log, /free\(\)|panic|Uncaught/, log);
    }
  },
);
