/**
 * Debian's chromium driven by `npm:puppeteer-core` for the dashboard's browser tests: one
 * headless browser per test file (a {@link BrowserSuite}), always closed. `.ci/setup_browser.sh` installs chromium; without it
 * the tests are skipped locally and fail under `CI=true` (tests/support/requires.ts).
 */
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { type Requirement, testRequiring } from "../support/requires.ts";

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

/** A check run as a step of a {@link BrowserSuite}, with the suite's browser. */
export type BrowserCase = (browser: Browser) => Promise<void>;

/**
 * Cases that share one headless chromium (starting one takes seconds on a loaded machine): each
 * runs as a step of one test and opens its pages in a context of its own (no storage shared).
 */
export class BrowserSuite {
  readonly #cases: [string, BrowserCase][] = [];

  /** Adds a case, run in the order added. */
  case(name: string, run: BrowserCase): void {
    this.#cases.push([name, run]);
  }

  /** Registers the test `name` that launches the browser and runs every case as a step. */
  register(name: string): void {
    testRequiring(CHROMIUM, name, async (t) => {
      await withBrowser(async (browser) => {
        for (const [step, run] of this.#cases) await t.step(step, () => run(browser));
      });
    });
  }
}

/** Launches headless chromium, runs `body`, and closes the browser whatever happens. */
export async function withBrowser(body: (browser: Browser) => Promise<void>): Promise<void> {
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    // The sandbox needs user namespaces, which a root CI container does not give; the browser
    // only loads the router's own page on 127.0.0.1.
    args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--no-first-run"],
    timeout: WAIT_MS,
    protocolTimeout: WAIT_MS * 3,
  });
  try {
    await body(browser);
  } finally {
    await browser.close();
  }
}

/**
 * Opens one page (`viewport`) in a new browser context of `browser`, runs `body`, and closes
 * the context. Errors the page's script throws are collected in `pageErrors` for the test to
 * assert on.
 */
export async function withPage(
  browser: Browser,
  viewport: { readonly width: number; readonly height: number },
  body: (page: Page, pageErrors: string[]) => Promise<void>,
): Promise<void> {
  const context = await browser.createBrowserContext();
  try {
    const page = await context.newPage();
    page.setDefaultTimeout(WAIT_MS);
    page.setDefaultNavigationTimeout(WAIT_MS);
    await page.setViewport(viewport);
    const pageErrors: string[] = [];
    page.on("pageerror", (err) => pageErrors.push(String(err)));
    await body(page, pageErrors);
  } finally {
    await context.close();
  }
}

/** The visible text of the first element matching `selector` ("" when there is none). */
export async function textOf(page: Page, selector: string): Promise<string> {
  // Runs in the page; typed structurally (the test build has no DOM library).
  return await page.$eval(selector, (el) => (el as unknown as { innerText: string }).innerText)
    .catch(() => "");
}
