import assert from "node:assert/strict";
import { KubeApiError, KubeClient } from "../../../src/discovery/kube/client.ts";
import { Informer, type InformerOptions } from "../../../src/discovery/kube/informer.ts";
import type { Pod } from "../../../src/discovery/kube/objects.ts";
import { within as withinMs } from "../../support/deadline.ts";
import { silentLogger } from "../../support/logger.ts";
import {
  type ApiObject,
  FakeApiServer,
  plainConnection,
  type RecordedRequest,
} from "../fake_api_server.ts";

const PODS = "/api/v1/pods";
const NS_PODS = "/api/v1/namespaces/hytale/pods";
const DEADLINE_MS = 5_000;

const podFixture = JSON.parse(
  await Deno.readTextFile(new URL("../../fixtures/discovery/pod.json", import.meta.url)),
) as ApiObject;

/** The pod fixture renamed, with `podIP` set (what a test changes between events). */
function pod(name: string, ip = "10.0.0.1", namespace = "hytale"): ApiObject {
  const p = structuredClone(podFixture);
  p.metadata = { ...p.metadata, name, namespace };
  (p["status"] as { podIP: string }).podIP = ip;
  return p;
}

/** What `promise` settles to, or a rejection once the deadline has passed. */
function within<T>(promise: Promise<T>, what: string): Promise<T> {
  return withinMs(promise, DEADLINE_MS, `timed out waiting for ${what}`);
}

/** A running informer on a fake server, with waits driven by its `onChange` calls. */
class Harness {
  readonly server: FakeApiServer;
  readonly informer: Informer<Pod>;
  readonly sleeps: number[] = [];
  readonly #abort = new AbortController();
  readonly #client: KubeClient;
  readonly #run: Promise<void>;
  #changes = 0;
  #waiters: Array<() => boolean> = [];

  constructor(server: FakeApiServer, options: Partial<InformerOptions> = {}) {
    this.server = server;
    this.#client = new KubeClient(plainConnection(server.url));
    this.informer = new Informer<Pod>({
      client: this.#client,
      path: NS_PODS,
      logger: silentLogger(),
      signal: this.#abort.signal,
      random: () => 0.5,
      sleep: (ms) => {
        this.sleeps.push(ms);
        this.#poke();
        return Promise.resolve();
      },
      onChange: () => {
        this.#changes++;
        this.#poke();
      },
      ...options,
    });
    this.#run = this.informer.run();
  }

  get changes(): number {
    return this.#changes;
  }

  /** Resolves once `check()` holds, re-checked after every change and retry. */
  until(check: () => boolean, what: string): Promise<void> {
    const wait = new Promise<void>((resolve) => {
      const test = () => {
        if (!check()) return false;
        resolve();
        return true;
      };
      if (!test()) this.#waiters.push(test);
    });
    return within(wait, what);
  }

  /** The `n`-th (1-based) watch request. */
  watchRequest(n: number): Promise<RecordedRequest> {
    let seen = 0;
    return within(
      this.server.waitForRequest((r) => r.query.get("watch") === "1" && ++seen === n),
      `watch request ${n}`,
    );
  }

  /** Names of the informer's items, sorted. */
  names(): string[] {
    return this.informer.items().map((p) => p.metadata?.name ?? "").sort();
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await within(this.#run, "the informer to stop");
    this.#client.close();
    await this.server.close();
  }

  #poke(): void {
    // Waiters whose check still fails stay registered.
    this.#waiters = this.#waiters.filter((w) => !w());
  }
}

Deno.test("informer: initial list, then ADDED/MODIFIED/DELETED events are applied", async () => {
  const server = FakeApiServer.start();
  server.add(PODS, pod("a"));
  server.add(PODS, pod("elsewhere", "10.9.9.9", "other"));
  const h = new Harness(server);
  try {
    await h.until(() => h.informer.synced, "sync");
    assert.deepEqual(h.names(), ["a"]);
    assert.equal(h.informer.resourceVersion, server.resourceVersion);
    const watch = await h.watchRequest(1);
    assert.equal(watch.query.get("resourceVersion"), server.resourceVersion);
    assert.equal(watch.query.get("allowWatchBookmarks"), "true");
    assert.equal(watch.query.get("timeoutSeconds"), "300");

    server.add(PODS, pod("b"));
    await h.until(() => h.names().join() === "a,b", "b added");
    server.modify(PODS, pod("a", "10.0.0.42"));
    await h.until(
      () => h.informer.items().some((p) => p.status?.podIP === "10.0.0.42"),
      "a modified",
    );
    const rv = server.delete(PODS, "hytale", "b");
    await h.until(() => h.names().join() === "a", "b deleted");
    assert.equal(h.informer.resourceVersion, rv);
    assert.equal(h.informer.restarts, 0);
    assert.equal(h.informer.lastError, null);
  } finally {
    await h.stop();
  }
});

Deno.test("informer: the label selector goes to LIST and WATCH", async () => {
  const server = FakeApiServer.start();
  const other = pod("other");
  other.metadata.labels = { app: "web" };
  server.add(PODS, pod("a"));
  server.add(PODS, other);
  const h = new Harness(server, { labelSelector: "app=hytale" });
  try {
    await h.until(() => h.informer.synced, "sync");
    assert.deepEqual(h.names(), ["a"]);
    const watch = await h.watchRequest(1);
    assert.equal(watch.query.get("labelSelector"), "app=hytale");
  } finally {
    await h.stop();
  }
});

Deno.test("informer: LIST pages with limit and continue", async () => {
  const server = FakeApiServer.start();
  for (const name of ["p1", "p2", "p3", "p4", "p5"]) server.add(PODS, pod(name));
  const h = new Harness(server, { pageSize: 2 });
  try {
    await h.until(() => h.informer.synced, "sync");
    assert.deepEqual(h.names(), ["p1", "p2", "p3", "p4", "p5"]);
    const lists = server.requests.filter((r) => r.query.get("watch") === null);
    assert.deepEqual(lists.map((r) => r.query.get("continue")), [null, "2", "4"]);
    assert.ok(lists.every((r) => r.query.get("limit") === "2"));
    assert.equal(h.changes, 1, "one onChange for the whole list");
  } finally {
    await h.stop();
  }
});

Deno.test("informer: a BOOKMARK advances the resourceVersion the next watch starts from", async () => {
  const server = FakeApiServer.start();
  server.add(PODS, pod("a"));
  const h = new Harness(server);
  try {
    await h.watchRequest(1);
    const changesBefore = h.changes;
    server.bookmark();
    const bookmarkRv = server.resourceVersion;
    server.dropWatches("close"); // after the bookmark on the same stream
    const again = await h.watchRequest(2);
    assert.equal(again.query.get("resourceVersion"), bookmarkRv);
    assert.equal(h.informer.resourceVersion, bookmarkRv);
    assert.equal(h.changes, changesBefore, "a bookmark is not a change");
  } finally {
    await h.stop();
  }
});

Deno.test("informer: an ERROR 410 event re-lists and counts the restart", async () => {
  const server = FakeApiServer.start();
  server.add(PODS, pod("a"));
  const h = new Harness(server);
  try {
    await h.watchRequest(1);
    server.expireWatches();
    server.add(PODS, pod("b")); // after compaction: only a fresh LIST shows it
    await h.until(() => h.informer.relists === 1 && h.names().join() === "a,b", "re-list");
    const second = await h.watchRequest(2);
    assert.equal(second.query.get("resourceVersion"), server.resourceVersion);
    assert.equal(h.informer.restarts, 1);
    assert.equal(h.sleeps.length, 0, "no backoff for an expired watch");
    const lists = server.requests.filter((r) => r.query.get("watch") === null);
    assert.equal(lists.length, 2);
  } finally {
    await h.stop();
  }
});

Deno.test("informer: HTTP 410 on a too-old resourceVersion re-lists", async () => {
  const server = FakeApiServer.start();
  server.add(PODS, pod("a"));
  const h = new Harness(server);
  try {
    const first = await h.watchRequest(1);
    server.add(PODS, pod("b"));
    await h.until(() => h.names().length === 2, "b added");
    server.delete(PODS, "hytale", "a");
    server.compact();
    server.dropWatches("close");
    await h.until(() => h.informer.relists === 1, "re-list after 410");
    await h.until(() => h.names().join() === "b", "state after re-list");
    const watches = server.requests.filter((r) => r.query.get("watch") === "1");
    assert.ok(watches.length >= 2);
    assert.notEqual(first.query.get("resourceVersion"), server.resourceVersion);
  } finally {
    await h.stop();
  }
});

Deno.test("informer: a dropped watch resumes from the last resourceVersion", async () => {
  const server = FakeApiServer.start();
  server.add(PODS, pod("a"));
  const h = new Harness(server);
  try {
    await h.watchRequest(1);
    const rv = server.add(PODS, pod("b"));
    await h.until(() => h.informer.resourceVersion === rv, "b seen");
    server.dropWatches("close");
    const second = await h.watchRequest(2);
    assert.equal(second.query.get("resourceVersion"), rv);
    server.add(PODS, pod("c"));
    await h.until(() => h.names().join() === "a,b,c", "c after re-watch");
    server.dropWatches("reset");
    const third = await h.watchRequest(3);
    assert.equal(third.query.get("resourceVersion"), server.resourceVersion);
    assert.equal(h.informer.restarts, 2);
    assert.equal(h.informer.relists, 0);
    assert.equal(server.requests.filter((r) => r.query.get("watch") === null).length, 1);
  } finally {
    await h.stop();
  }
});

Deno.test("informer: an event split across chunks (mid UTF-8) is applied once whole", async () => {
  const abort = new AbortController();
  const obj = structuredClone(podFixture);
  obj.metadata = { name: "split-é", namespace: "hytale", resourceVersion: "900" };
  const bytes = new TextEncoder().encode(JSON.stringify({ type: "ADDED", object: obj }) + "\n");
  const cut = bytes.indexOf(0xc3) + 1; // between the two bytes of "é"
  const chunks = [bytes.slice(0, cut), bytes.slice(cut)];
  let watches = 0;
  const client = {
    get: () => Promise.resolve({ items: [], metadata: { resourceVersion: "7" } }),
    watch: (_path: string, _query: unknown, signal?: AbortSignal) => {
      watches++;
      return Promise.resolve(
        new ReadableStream<Uint8Array>({
          start(controller) {
            if (watches > 1) return; // the resumed watch stays open until the abort
            for (const c of chunks) controller.enqueue(c);
            controller.close();
          },
          cancel() {},
        }).pipeThrough(new TransformStream(), { signal: signal ?? abort.signal }),
      );
    },
  };
  const changes: string[][] = [];
  let applied = () => {};
  const seen = new Promise<void>((resolve) => applied = resolve);
  const informer = new Informer({
    client,
    path: NS_PODS,
    logger: silentLogger(),
    signal: abort.signal,
    onChange: () => {
      changes.push(informer.items().map((p) => p.metadata?.name ?? ""));
      if (informer.items().length > 0) applied();
    },
  });
  const run = informer.run();
  await within(seen, "the split event");
  abort.abort();
  await within(run, "stop");
  assert.deepEqual(changes, [[], ["split-é"]]);
  assert.equal(informer.resourceVersion, "900");
});

Deno.test("informer: a malformed event or a non-410 ERROR backs off and re-watches", async () => {
  const server = FakeApiServer.start();
  server.add(PODS, pod("a"));
  const h = new Harness(server);
  try {
    await h.watchRequest(1);
    const rv = server.resourceVersion;
    server.sendRaw("{not json\n");
    const second = await h.watchRequest(2);
    assert.equal(second.query.get("resourceVersion"), rv);
    assert.match(h.informer.lastError?.message ?? "", /event is not JSON/);
    const status = { kind: "Status", code: 500, message: "etcd unhappy" };
    server.sendRaw(JSON.stringify({ type: "ERROR", object: status }) + "\n");
    await h.watchRequest(3);
    assert.match(h.informer.lastError?.message ?? "", /ERROR 500 etcd unhappy/);
    assert.equal(h.sleeps.length, 2);
    assert.equal(h.informer.relists, 0);
    assert.deepEqual(h.names(), ["a"]);
  } finally {
    await h.stop();
  }
});

Deno.test("informer: 500s back off with full jitter, then it recovers", async () => {
  const server = FakeApiServer.start();
  server.add(PODS, pod("a"));
  server.failNext(4);
  const h = new Harness(server, { backoff: { initialMs: 100, maxMs: 500 } });
  try {
    await h.until(() => h.informer.synced, "sync after failures");
    // Ceilings 100, 200, 400, 500 (capped), each × random 0.5.
    assert.deepEqual(h.sleeps, [50, 100, 200, 250]);
    assert.match(h.informer.lastError?.message ?? "", /HTTP 500/);
    assert.deepEqual(h.names(), ["a"]);
  } finally {
    await h.stop();
  }
});

Deno.test("informer: during API errors the last good state keeps serving", async () => {
  const server = FakeApiServer.start();
  server.add(PODS, pod("a"));
  const h = new Harness(server);
  try {
    await h.watchRequest(1);
    server.compact(); // the re-watch gets 410, the re-lists fail
    server.failNext(3);
    server.dropWatches("reset");
    await h.until(() => h.sleeps.length >= 3, "three failed attempts");
    assert.deepEqual(h.names(), ["a"], "items kept while failing");
    assert.ok(h.informer.synced);
    server.add(PODS, pod("b"));
    await h.until(() => h.names().join() === "a,b", "recovered");
    assert.equal(h.informer.relists, 1);
  } finally {
    await h.stop();
  }
});

Deno.test("informer: a throwing onChange is logged, not thrown", async () => {
  const server = FakeApiServer.start();
  server.add(PODS, pod("a"));
  let calls = 0;
  const h = new Harness(server, {
    onChange: () => {
      calls++;
      throw new Error("consumer bug");
    },
  });
  try {
    await h.watchRequest(1);
    assert.equal(calls, 1);
    assert.ok(h.informer.synced);
  } finally {
    await h.stop();
  }
});

Deno.test("informer: abort stops a running watch and a pending backoff", async () => {
  const server = FakeApiServer.start();
  server.add(PODS, pod("a"));
  const h = new Harness(server);
  await h.watchRequest(1);
  assert.equal(server.openWatches, 1);
  await h.stop(); // fails on its deadline if the watch does not end; sanitizers catch leaks

  // Real timers: abort during a 30 s backoff ends at once.
  const failing = FakeApiServer.start();
  failing.failNext(1_000);
  const abort = new AbortController();
  const client = new KubeClient(plainConnection(failing.url));
  const informer = new Informer({
    client,
    path: NS_PODS,
    logger: silentLogger(),
    signal: abort.signal,
    onChange: () => {},
    random: () => {
      backingOff(); // called right before the backoff sleep starts
      return 1;
    },
    backoff: { initialMs: 30_000, maxMs: 30_000 },
  });
  let backingOff = () => {};
  const backoffStarted = new Promise<void>((resolve) => backingOff = resolve);
  const run = informer.run();
  await within(backoffStarted, "the first backoff");
  abort.abort();
  await within(run, "abort during backoff");
  assert.equal(informer.synced, false);
  client.close();
  await failing.close();
});

Deno.test("informer: 410 right after every LIST backs off instead of looping", async () => {
  const abort = new AbortController();
  const sleeps: number[] = [];
  let lists = 0;
  const client = {
    get: () => {
      lists++;
      return Promise.resolve({ items: [podFixture], metadata: { resourceVersion: "7" } });
    },
    watch: () => Promise.reject(new KubeApiError("status", NS_PODS, 410, "HTTP 410")),
  };
  let reached = () => {};
  const fourLists = new Promise<void>((resolve) => reached = resolve);
  const informer = new Informer({
    client,
    path: NS_PODS,
    logger: silentLogger(),
    signal: abort.signal,
    onChange: () => {
      if (lists === 4) {
        abort.abort();
        reached();
      }
    },
    random: () => 1,
    backoff: { initialMs: 100, maxMs: 1_000 },
    sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
  });
  const run = informer.run();
  assert.equal(informer.run(), run, "a second run() joins the first");
  await within(fourLists, "four LISTs");
  await within(run, "stop");
  // The first 410 re-lists at once; the repeats back off 100, 200 ms.
  assert.deepEqual(sleeps, [100, 200]);
  assert.equal(informer.relists, 3);
  assert.equal(informer.items().length, 1);
  assert.match(informer.lastError?.message ?? "", /expired again right after a LIST/);
});
