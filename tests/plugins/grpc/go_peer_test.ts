/**
 * The gRPC client against the Go peer (../shared/peers/grpc-go), which speaks the plugin protocol
 * exactly as the Go router's Go plugins do. Skipped, with a note in the name, when the peer is
 * not built; CI builds it with .ci/setup_grpc.sh.
 */
import assert from "node:assert/strict";
import { PluginError, type PluginTransport } from "../../../src/plugins/transport.ts";
import { type Connector, createGrpcPlugin } from "../../../src/plugins/grpc/mod.ts";
import { connectTcp } from "../../../src/plugins/grpc/channel.ts";
import { freePort, GO_PEER, type ServerProcess, startGoPeer } from "./peers.ts";
import { silentLogger } from "../../support/logger.ts";
import { within } from "../../support/deadline.ts";
import { testRequiring } from "../../support/requires.ts";

const logger = silentLogger();
const encode = (s: string) => new TextEncoder().encode(s);
const decode = (b: Uint8Array) => new TextDecoder().decode(b);

function request(username: string, sni = "grpc.example.com"): Uint8Array {
  return encode(JSON.stringify({
    event: { sni, uuid: "d3e6ef90-e113-49a7-a845-1c11f24fe166", username, language: "de-DE" },
    strategy: "round_robin",
    candidates: [{ host: "a.internal", port: 5520, weight: 1, meta: { k: "v" } }],
    selected_index: 0,
    backend: { host: "a.internal", port: 5520, weight: 1, meta: { k: "v" } },
  }));
}

// The Go peer's json.Marshal output for its two answers (field order of its struct).
const ROUTED = '{"deny":false,"backend":{"host":"play.example.com","port":5520},' +
  '"referral_content":"Z3JwYy1wbHVnaW4="}';
const DENIED = '{"deny":true,"deny_reason":"denied by grpc plugin",' +
  '"referral_content":"Z3JwYy1wbHVnaW4="}';
const PLAIN = '{"deny":false,"referral_content":"Z3JwYy1wbHVnaW4="}';

/** A controllable clock and a connector that counts dials (and hands `onWrite` what it writes). */
function harness(address: string, onWrite?: (written: Uint8Array) => void) {
  const clock = { ms: 0 };
  const dials = { count: 0 };
  const connect: Connector = async (target, signal) => {
    dials.count += 1;
    const conn = await connectTcp(target, signal);
    if (onWrite === undefined) return conn;
    return {
      read: (p) => conn.read(p),
      write: async (p) => {
        const n = await conn.write(p);
        onWrite(p.subarray(0, n));
        return n;
      },
      close: () => conn.close(),
    };
  };
  const plugin = createGrpcPlugin({
    name: "go-peer",
    address,
    timeoutMs: 1000,
    logger,
    connect,
    now: () => clock.ms,
    random: () => 0.5, // no jitter: backoff waits are exactly 100, 160, 256 … ms
  });
  return { plugin, clock, dials };
}

async function expectPluginError(
  promise: Promise<unknown>,
  kind: string,
): Promise<PluginError> {
  const err = await promise.then(() => null, (e: unknown) => e);
  assert.ok(err instanceof PluginError, `expected a PluginError, got ${String(err)}`);
  assert.equal(err.kind, kind, err.message);
  assert.equal(err.plugin, "go-peer");
  return err;
}

async function withPeer(
  extra: string[],
  fn: (peer: ServerProcess) => Promise<void>,
): Promise<void> {
  const peer = await startGoPeer(freePort(), extra);
  try {
    await fn(peer);
  } finally {
    await peer.stop("SIGKILL");
  }
}

const test = (name: string, fn: () => Promise<void>) => testRequiring(GO_PEER, name, fn);

test("grpc/go peer: route, deny and plain answers arrive byte for byte", async () => {
  await withPeer([], async (peer) => {
    const { plugin } = harness(peer.address);
    try {
      assert.equal(decode(await plugin.call(request("Krymo"), 1000)), ROUTED);
      assert.equal(decode(await plugin.call(request("DeNy"), 1000)), DENIED);
      assert.equal(decode(await plugin.call(request("Krymo", "play.example.com"), 1000)), PLAIN);
    } finally {
      await plugin.close();
    }
  });
});

test("grpc/go peer: 600 sequential calls share one connection past the GOAWAY threshold", async () => {
  await withPeer([], async (peer) => {
    const { plugin, dials } = harness(peer.address);
    try {
      for (let i = 0; i < 600; i++) {
        assert.equal(decode(await plugin.call(request(`user${i}`), 1000)), ROUTED);
      }
      assert.equal(dials.count, 1);
    } finally {
      await plugin.close();
    }
  });
});

test("grpc/go peer: 16 calls in flight, 40 rounds", async () => {
  await withPeer([], async (peer) => {
    const { plugin, dials } = harness(peer.address);
    try {
      for (let round = 0; round < 40; round++) {
        const names = Array.from({ length: 16 }, (_, i) => (i % 4 === 0 ? "deny" : `u${i}`));
        const answers = await Promise.all(names.map((n) => plugin.call(request(n), 1000)));
        answers.forEach((a, i) => assert.equal(decode(a), names[i] === "deny" ? DENIED : ROUTED));
      }
      assert.equal(dials.count, 1);
    } finally {
      await plugin.close();
    }
  });
});

test("grpc/go peer: a 300 KiB request passes send-side flow control", async () => {
  await withPeer([], async (peer) => {
    const { plugin } = harness(peer.address);
    try {
      const big = JSON.stringify({
        event: { sni: "grpc.example.com", username: "big", uuid: "u" },
        candidates: [{ host: "h", port: 1, meta: { blob: "x".repeat(300 * 1024) } }],
        selected_index: 0,
      });
      assert.equal(decode(await plugin.call(encode(big), 2000)), ROUTED);
      assert.equal(decode(await plugin.call(request("after"), 1000)), ROUTED);
    } finally {
      await plugin.close();
    }
  });
});

test("grpc/go peer: a slow server costs the caller its timeout, not more", async () => {
  await withPeer(["-sleep-ms", "400"], async (peer) => {
    const { plugin } = harness(peer.address);
    try {
      for (let i = 0; i < 3; i++) {
        const started = performance.now();
        await expectPluginError(plugin.call(request("slow"), 100), "timeout");
        const elapsed = performance.now() - started;
        assert.ok(elapsed >= 99 && elapsed < 200, `timed out after ${elapsed.toFixed(1)} ms`);
      }
      // The cancelled streams left the connection usable.
      assert.equal(decode(await plugin.call(request("patient"), 2000)), ROUTED);
    } finally {
      await plugin.close();
    }
  });
});

test("grpc/go peer: the server's own deadline (grpc-timeout) maps to timeout", async () => {
  await withPeer(["-sleep-ms", "300"], async (peer) => {
    // The server sees grpc-timeout and answers DEADLINE_EXCEEDED at about the same moment the
    // local timer fires; either way the caller gets `timeout` within its budget.
    const { plugin } = harness(peer.address);
    try {
      const started = performance.now();
      await expectPluginError(plugin.call(request("slow"), 150), "timeout");
      assert.ok(performance.now() - started < 250);
    } finally {
      await plugin.close();
    }
  });
});

for (
  const [how, signal] of [["graceful stop (GOAWAY)", "SIGTERM"], ["hard stop", "SIGINT"], [
    "kill -9",
    "SIGKILL",
  ]] as const
) {
  test(`grpc/go peer: ${how} → fast unavailable while down, recovery after restart`, async () => {
    const port = freePort();
    let peer = await startGoPeer(port);
    const { plugin, clock, dials } = harness(peer.address);
    try {
      assert.equal(decode(await plugin.call(request("before"), 1000)), ROUTED);
      await peer.stop(signal);

      // First call after the death: a dial (or the dead socket) fails at once.
      let started = performance.now();
      await expectPluginError(plugin.call(request("down"), 1000), "unavailable");
      // Possibly one more while the old socket's end is noticed; then the backoff holds.
      await plugin.call(request("down"), 1000).catch(() => {});
      const dialsWhileDown = dials.count;
      for (let i = 0; i < 50; i++) {
        await expectPluginError(plugin.call(request("down"), 1000), "unavailable");
      }
      assert.equal(dials.count, dialsWhileDown, "no dial during the backoff");
      assert.ok(performance.now() - started < 500, "failing calls are fast");

      // Past the backoff a dial is tried again, still refused: the wait grows.
      clock.ms += 10_000;
      started = performance.now();
      await expectPluginError(plugin.call(request("down"), 1000), "unavailable");
      assert.equal(dials.count, dialsWhileDown + 1);

      peer = await startGoPeer(port);
      clock.ms += 10_000;
      assert.equal(decode(await plugin.call(request("after"), 1000)), ROUTED);
      for (let i = 0; i < 100; i++) {
        assert.equal(decode(await plugin.call(request(`again${i}`), 1000)), ROUTED);
      }
    } finally {
      await plugin.close();
      await peer.stop("SIGKILL");
    }
  });
}

test("grpc/go peer: a call in flight during a graceful stop completes", async () => {
  const peer = await startGoPeer(freePort(), ["-sleep-ms", "300"]);
  const written = Promise.withResolvers<void>();
  const { plugin } = harness(peer.address, (bytes) => {
    if (decode(bytes).includes('"username":"inflight"')) written.resolve();
  });
  try {
    assert.equal(decode(await plugin.call(request("warm"), 2000)), ROUTED);
    const inFlight = plugin.call(request("inflight"), 2000);
    // The stop follows the request's bytes onto the socket: the peer reads them before it sees
    // the PING ack that ends grpc-go's two-step GOAWAY, so it serves the call (holding it 300 ms)
    // and only then exits.
    await within(written.promise, 2000, "no write of the in-flight request");
    const stopped = peer.stop("SIGTERM");
    assert.equal(decode(await inFlight), ROUTED);
    const { status } = await stopped;
    assert.equal(status.success, true, "the peer drained and exited cleanly");
    await expectPluginError(plugin.call(request("after"), 500), "unavailable");
  } finally {
    await plugin.close();
    await peer.stop("SIGKILL");
  }
});

test("grpc/go peer: nothing listening → unavailable at once; close is idempotent", async () => {
  const { plugin } = harness(`127.0.0.1:${freePort()}`);
  const started = performance.now();
  await expectPluginError(plugin.call(request("x"), 1000), "unavailable");
  assert.ok(performance.now() - started < 250);
  await plugin.close();
  await plugin.close();
  await expectPluginError(plugin.call(request("x"), 1000), "unavailable");
});

// Typed use of the interface, so a signature change breaks this file at check time.
export const _typed: (p: PluginTransport) => string = (p) => p.name;
