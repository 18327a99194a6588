/**
 * Debian's chromium driven by `npm:puppeteer-core` for the dashboard's browser tests: one
 * headless browser per test, always closed. `.ci/setup_browser.sh` installs chromium; without it
 * the tests are skipped locally and fail under `CI=true` (tests/support/requires.ts).
 */
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import type { Requirement } from "../support/requires.ts";

/** Where Debian's `chromium` package puts the browser. */
export const CHROMIUM_PATH = "/usr/bin/chromium";

/** Chromium is installed. */
export const CHROMIUM: Requirement = {
  available: exists(CHROMIUM_PATH),
  install: "apt-get install chromium (bash .ci/setup_browser.sh)",
};

function exists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** Bound on every wait in the browser tests (page loads, selectors, functions). */
export const WAIT_MS = 10_000;

/** The viewport of a desktop and of a phone (an iPhone 12–15 in CSS pixels). */
export const DESKTOP = { width: 1280, height: 900 } as const;
export const PHONE = { width: 390, height: 844, isMobile: true, hasTouch: true } as const;

/**
 * Launches headless chromium, opens one page (`viewport`), runs `body`, and closes the browser
 * whatever happens. Errors the page's script throws fail the test through `pageErrors`.
 */
export async function withPage(
  viewport: { readonly width: number; readonly height: number },
  body: (page: Page, pageErrors: string[]) => Promise<void>,
): Promise<void> {
  const browser: Browser = await puppeteer.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    // The sandbox needs user namespaces, which a root CI container does not give; the browser
    // only loads the router's own page on 127.0.0.1.
    args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--no-first-run"],
    timeout: WAIT_MS,
    protocolTimeout: WAIT_MS * 3,
  });
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(WAIT_MS);
    page.setDefaultNavigationTimeout(WAIT_MS);
    await page.setViewport(viewport);
    const pageErrors: string[] = [];
    page.on("pageerror", (err) => pageErrors.push(String(err)));
    await body(page, pageErrors);
  } finally {
    await browser.close();
  }
}

/** The visible text of the first element matching `selector` ("" when there is none). */
export async function textOf(page: Page, selector: string): Promise<string> {
  // Runs in the page; typed structurally (the test build has no DOM library).
  return await page.$eval(selector, (el) => (el as unknown as { innerText: string }).innerText)
    .catch(() => "");
}
