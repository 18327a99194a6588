/**
 * The dashboard's page and assets over real HTTP on 127.0.0.1: served with the admin API, with
 * the security headers, no inline script (so the Content-Security-Policy holds) and no data in
 * them. What the page does in a browser is tests/browser/dashboard_test.ts.
 */
import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import {
  type AdminApi,
  type AdminServerOptions,
  Logger,
  Metrics,
  Readiness,
  startAdminServer,
} from "../../src/observability/mod.ts";

const API: AdminApi = {
  token: () => new TextEncoder().encode("page-test-token"),
  endpoints: new Map([["status", { GET: () => ({ version: "test" }) }]]),
};

async function withAdmin(
  extra: Partial<AdminServerOptions>,
  body: (url: (path: string) => string) => Promise<void>,
): Promise<void> {
  const logger = new Logger({
    level: "error",
    format: "json",
    sink: { write: () => {}, now: () => new Date(0) },
  });
  const server = startAdminServer({
    hostname: "127.0.0.1",
    port: 0,
    metrics: new Metrics(),
    readiness: new Readiness(),
    logger,
    ...extra,
  });
  try {
    await body((p) => `http://127.0.0.1:${server.addr.port}${p}`);
  } finally {
    await server.close();
  }
}

async function get(url: string, init?: RequestInit) {
  const response = await fetch(url, init);
  return { status: response.status, headers: response.headers, body: await response.text() };
}

function assertSecurityHeaders(headers: Headers, what: string): void {
  const csp = headers.get("content-security-policy") ?? "";
  assertMatch(csp, /(^|; )default-src 'self'(;|$)/, what);
  assertMatch(csp, /(^|; )script-src 'self'(;|$)/, what);
  assert(!csp.includes("unsafe-inline") && !csp.includes("unsafe-eval"), `${what}: ${csp}`);
  assertEquals(headers.get("x-content-type-options"), "nosniff", what);
  assertEquals(headers.get("referrer-policy"), "no-referrer", what);
  assertEquals(headers.get("cache-control"), "no-store", what);
}

const ASSETS = [
  ["/", /^text\/html; charset=utf-8$/],
  ["/assets/app.js", /^text\/javascript; charset=utf-8$/],
  ["/assets/app.css", /^text\/css; charset=utf-8$/],
  ["/assets/icon.svg", /^image\/svg\+xml$/],
] as const;

Deno.test("dashboard: the page and its assets are served without a token, with strict headers", async () => {
  await withAdmin({ api: API }, async (url) => {
    for (const [path, type] of ASSETS) {
      const r = await get(url(path));
      assertEquals(r.status, 200, path);
      assertMatch(r.headers.get("content-type") ?? "", type, path);
      assertSecurityHeaders(r.headers, path);
      assert(r.body.length > 100, path);
    }
    const page = (await get(url("/"))).body;
    assertMatch(page, /<meta name="viewport" content="width=device-width, initial-scale=1">/);
    assertMatch(page, /<script src="\/assets\/app\.js" defer><\/script>/);
    assertMatch(page, /<link rel="stylesheet" href="\/assets\/app\.css">/);
  });
});

Deno.test("dashboard: the page has no inline script, handler or style the CSP would block", async () => {
  await withAdmin({ api: API }, async (url) => {
    const page = (await get(url("/"))).body;
    const scripts = [...page.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
    assertEquals(scripts.length, 1);
    for (const [, attrs, inner] of scripts) {
      assertMatch(attrs ?? "", /\bsrc="\/assets\//);
      assertEquals(inner, "");
    }
    assert(!/\son[a-z]+\s*=/i.test(page), "an inline event handler");
    assert(!/\sstyle\s*=/i.test(page), "an inline style attribute");
    assert(!/<style\b/i.test(page), "an inline style element");
    assert(!/javascript:/i.test(page), "a javascript: URL");
    // Only this origin: no CDN, nothing external.
    for (const [, ref] of page.matchAll(/\s(?:src|href)="([^"]*)"/g)) {
      assertMatch(ref ?? "", /^\/assets\//);
    }
  });
});

Deno.test("dashboard: every form control has a label; tables have captions and scoped headers", async () => {
  await withAdmin({ api: API }, async (url) => {
    const page = (await get(url("/"))).body;
    const labelled = new Set([...page.matchAll(/<label[^>]* for="([^"]+)"/g)].map((m) => m[1]));
    const controls = [...page.matchAll(/<(?:input|textarea|select)\b[^>]*\bid="([^"]+)"/g)];
    assert(controls.length >= 9, `${controls.length} controls`);
    for (const [, id] of controls) assert(labelled.has(id), `no <label for="${id}">`);
    assertEquals(page.match(/<table>/g)?.length, page.match(/<caption>/g)?.length);
    assert(!/<th(?=[\s>])(?![^>]*scope=)[^>]*>/.test(page), "a <th> without scope");
    assertMatch(page, /role="status" aria-live="polite"/);
  });
});

Deno.test("dashboard: the script parses and never writes markup from data", async () => {
  await withAdmin({ api: API }, async (url) => {
    const script = (await get(url("/assets/app.js"))).body;
    // Parsed, not run (a syntax error would throw here).
    new Function(script);
    for (
      const sink of ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("]
    ) {
      assert(!script.includes(sink), sink);
    }
    assertMatch(script, /EventSource cannot send the Authorization header/);
  });
});

Deno.test("dashboard: unknown assets are 404, other methods 405, the rest of the endpoint unchanged", async () => {
  await withAdmin({ api: API }, async (url) => {
    for (
      const path of ["/assets/", "/assets/app.js.map", "/index.html"]
    ) {
      const r = await get(url(path));
      assertEquals(r.status, 404, path);
      assert(!r.body.includes("<"), path);
    }
    const missing = await get(url("/assets/nope.js"));
    assertEquals(missing.status, 404);
    assertSecurityHeaders(missing.headers, "404");
    for (const method of ["POST", "PUT", "DELETE"]) {
      const r = await get(url("/"), { method });
      assertEquals(r.status, 405, method);
      assertEquals(r.headers.get("allow"), "GET");
    }
    assertEquals((await get(url("/healthz"))).body, "ok\n");
    assertEquals((await get(url("/api/v1/status"))).status, 401, "the API still wants its token");
    const authorised = await get(url("/api/v1/status"), {
      headers: { authorization: "Bearer page-test-token" },
    });
    assertEquals(JSON.parse(authorised.body), { version: "test" });
  });
});

Deno.test("dashboard: not served without an API, nor when switched off", async () => {
  for (const extra of [{}, { api: API, dashboard: false }]) {
    await withAdmin(extra, async (url) => {
      for (const path of ["/", "/assets/app.js"]) {
        assertEquals((await get(url(path))).status, 404, `${path} ${JSON.stringify(extra)}`);
      }
    });
  }
});
