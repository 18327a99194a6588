/**
 * The operator dashboard: the page at `/` and its assets under `/assets/`, all compiled in (no
 * file is read, nothing is fetched from elsewhere). They hold no data and need no token; the
 * page's script reads everything from `/api/v1/*` with the bearer token. Every answer carries a
 * strict Content-Security-Policy (only this origin's script and style, no inline script), and is
 * never cached nor sent a referrer.
 */
import { APP_CSS } from "./app_css.ts";
import { APP_JS } from "./app_js.ts";
import { ICON_SVG } from "./icon_svg.ts";
import { PAGE_HTML } from "./page_html.ts";

/** The page's Content-Security-Policy: this origin only, no inline script or style, no framing. */
export const DASHBOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join("; ");

/** Headers on the page and every asset. */
export const DASHBOARD_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "content-security-policy": DASHBOARD_CSP,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cache-control": "no-store",
});

interface Asset {
  readonly type: string;
  readonly body: string;
}

const ASSETS: ReadonlyMap<string, Asset> = new Map([
  ["/", { type: "text/html; charset=utf-8", body: PAGE_HTML }],
  ["/assets/app.js", { type: "text/javascript; charset=utf-8", body: APP_JS }],
  ["/assets/app.css", { type: "text/css; charset=utf-8", body: APP_CSS }],
  ["/assets/icon.svg", { type: "image/svg+xml", body: ICON_SVG }],
]);

/** Whether `path` is the dashboard's: `/` or anything under `/assets/` (unknown ones are 404). */
export function isDashboardPath(path: string): boolean {
  return path === "/" || path.startsWith("/assets/");
}

/**
 * Answers a request for a dashboard path: the page or asset (GET), 404 for an unknown asset, 405
 * with `Allow: GET` for another method. Every answer carries {@link DASHBOARD_HEADERS}.
 */
export function serveDashboard(method: string, path: string): Response {
  const asset = ASSETS.get(path);
  if (asset === undefined) return plain(404, "not found\n");
  if (method !== "GET") {
    const response = plain(405, "method not allowed\n");
    response.headers.set("allow", "GET");
    return response;
  }
  return new Response(asset.body, {
    headers: { ...DASHBOARD_HEADERS, "content-type": asset.type },
  });
}

function plain(status: number, body: string): Response {
  return new Response(body, {
    status,
    headers: { ...DASHBOARD_HEADERS, "content-type": "text/plain; charset=utf-8" },
  });
}
