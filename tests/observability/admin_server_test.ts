/** The admin HTTP endpoint over real HTTP on 127.0.0.1, port 0. */
import { assert, assertEquals, assertMatch, assertThrows } from "../support/assert.ts";
import {
  type AdminServer,
  Logger,
  Metrics,
  Readiness,
  startAdminServer,
} from "../../src/observability/mod.ts";
import { AdminListenError } from "../../src/observability/admin_server.ts";
import { parseSamples, sample } from "./prom_text.ts";
import { within } from "../support/deadline.ts";

interface Harness {
  readonly server: AdminServer;
  readonly url: (path: string) => string;
  readonly logs: string[];
}

async function withAdmin(
  metrics: Metrics,
  readiness: Readiness,
  body: (h: Harness) => Promise<void>,
): Promise<void> {
  const logs: string[] = [];
  const logger = new Logger({
    level: "debug",
    format: "json",
    sink: { write: (line) => logs.push(line), now: () => new Date(0) },
  });
  const server = startAdminServer({ hostname: "127.0.0.1", port: 0, metrics, readiness, logger });
  try {
    await body({ server, url: (p) => `http://127.0.0.1:${server.addr.port}${p}`, logs });
  } finally {
    await server.close();
  }
}

async function get(
  url: string,
  init?: RequestInit,
): Promise<{ status: number; body: string; headers: Headers }> {
  const response = await fetch(url, init);
  return { status: response.status, body: await response.text(), headers: response.headers };
}

Deno.test("/healthz answers 200; /metrics serves the registry's text", async () => {
  const metrics = new Metrics();
  metrics.connectionAccepted();
  await withAdmin(metrics, new Readiness(), async ({ url }) => {
    assertEquals((await get(url("/healthz"))).status, 200);
    const m = await get(url("/metrics"));
    assertEquals(m.status, 200);
    assertMatch(m.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
    assertEquals(sample(parseSamples(m.body), "gatehouse_connections_accepted_total"), 1);
  });
});

Deno.test("/readyz is 503 listing the failing checks until every check passes", async () => {
  const readiness = new Readiness();
  let loaded = false;
  readiness.set("listening", () => true);
  readiness.set("plugins_loaded", () => ({ ok: loaded, detail: loaded ? "2" : "loading 2" }));
  readiness.set("discovery_synced:static", () => {
    if (!loaded) throw new Error("provider not started");
    return true;
  });
  await withAdmin(new Metrics(), readiness, async ({ url }) => {
    const before = await get(url("/readyz"));
    assertEquals(before.status, 503);
    assertEquals(before.body.split("\n"), [
      "not ready",
      "ok listening",
      "failed plugins_loaded: loading 2",
      "failed discovery_synced:static: provider not started",
      "",
    ]);
    loaded = true;
    const after = await get(url("/readyz"));
    assertEquals(after.status, 200);
    assertEquals(
      after.body,
      "ready\nok listening\nok plugins_loaded: 2\nok discovery_synced:static\n",
    );
    readiness.delete("discovery_synced:static");
    assert(!(await get(url("/readyz"))).body.includes("discovery"));
  });
});

Deno.test("unknown paths are 404, other methods 405 with Allow: GET", async () => {
  await withAdmin(new Metrics(), new Readiness(), async ({ url }) => {
    for (const path of ["/", "/metrics/", "/health", "/__proto__", "/constructor"]) {
      assertEquals((await get(url(path))).status, 404, path);
    }
    for (const method of ["POST", "PUT", "DELETE", "HEAD"]) {
      const r = await get(url("/metrics"), { method });
      assertEquals(r.status, 405, method);
      assertEquals(r.headers.get("allow"), "GET");
    }
  });
});

Deno.test("a failing request is answered 500 and logged; the endpoint keeps serving", async () => {
  class BrokenMetrics extends Metrics {
    override render(): Promise<string> {
      return Promise.reject(new Error("registry exploded"));
    }
  }
  await withAdmin(new BrokenMetrics(), new Readiness(), async ({ url, logs }) => {
    assertEquals((await get(url("/metrics"))).status, 500);
    assert(logs.some((l) => l.includes("admin request failed") && l.includes("registry exploded")));
    assertEquals((await get(url("/healthz"))).status, 200);
  });
});

Deno.test("a taken address is an AdminListenError naming it", () => {
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const err = assertThrows(
    () =>
      startAdminServer({
        hostname: "127.0.0.1",
        port: taken.addr.port,
        metrics: new Metrics(),
        readiness: new Readiness(),
        logger: new Logger({ level: "error", format: "text" }),
      }),
    AdminListenError,
  );
  assertEquals(err.code, "admin_listen");
  assertEquals(err.address, `127.0.0.1:${taken.addr.port}`);
  assert(err.message.startsWith(`cannot listen on admin http 127.0.0.1:${taken.addr.port}: `));
});

Deno.test("close: answers in flight are finished; a client that never sends its body is cut off", async () => {
  let rendering = () => {};
  const renderStarted = new Promise<void>((resolve) => rendering = resolve);
  class SlowMetrics extends Metrics {
    override async render(): Promise<string> {
      rendering();
      await new Promise((r) => setTimeout(r, 100));
      return "x".repeat(1_000_000);
    }
  }
  const server = startAdminServer({
    hostname: "127.0.0.1",
    port: 0,
    metrics: new SlowMetrics(),
    readiness: new Readiness(),
    logger: new Logger({
      level: "error",
      format: "text",
      sink: { write: () => {}, now: () => new Date(0) },
    }),
    closeGraceMs: 300,
  });
  const { port } = server.addr;
  // Announces a body and sends one byte of it: answered 405 at once, the rest never comes.
  const stalled = await Deno.connect({ hostname: "127.0.0.1", port });
  await stalled.write(
    new TextEncoder().encode("POST /healthz HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n{"),
  );
  const answer = new Uint8Array(1024);
  const n = await within(stalled.read(answer), 5_000, "the stalled client's answer");
  assertMatch(new TextDecoder().decode(answer.subarray(0, n ?? 0)), /^HTTP\/1\.1 405/);
  const inFlight = fetch(`http://127.0.0.1:${port}/metrics`);
  await within(renderStarted, 5_000, "the /metrics request to arrive");
  const started = performance.now();
  await within(server.close(), 5_000, "close with a stalled client");
  const took = performance.now() - started;
  assert(took < 2_000, `close took ${took} ms`);
  // The answer being made when close began is delivered whole.
  const response = await inFlight;
  assertEquals(response.status, 200);
  assertEquals((await response.text()).length, 1_000_000);
  stalled.close();
});
