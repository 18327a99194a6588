/**
 * Saves docs/dashboard.png: the dashboard of dev/config.dev.yaml (on loopback ports) in chromium, after a few players arrived and one decision was explained.
 *
 *   deno task dashboard:screenshot   # needs chromium (bash .ci/setup_browser.sh)
 *
 * @module
 */
import { askConnect } from "../support/router_harness.ts";
import { DESKTOP, withBrowser, withPage } from "./chromium.ts";
import { TOKEN, withConsoleRouter } from "./console_router.ts";

const OUTPUT = new URL("../../docs/dashboard.png", import.meta.url);
const DEV_CONFIG = new URL("../../dev/config.dev.yaml", import.meta.url);

/** The dev config (admin API on through its token file) on loopback ports picked by the system. */
function devConfig(text: string): string {
  const listen = 'listen: ":5520"';
  const admin = 'listen: "127.0.0.1:9090"';
  if (!text.includes(listen) || !text.includes(admin) || !text.includes("token_file:")) {
    throw new Error(`${DEV_CONFIG.pathname}: no ${listen}, ${admin} or admin.token_file`);
  }
  return text.replace(listen, 'listen: "127.0.0.1:0"').replace(admin, 'listen: "127.0.0.1:0"');
}

const PLAYERS = [
  ["localhost", "Alice"],
  ["eu.example.com", "Bram"],
  ["example.net", "Chiara"],
  ["mc.other.org", "Dmitri"],
  ["eu.example.com", "Emeka"],
] as const;

async function main(): Promise<void> {
  const yaml = devConfig(await Deno.readTextFile(DEV_CONFIG));
  await withConsoleRouter(yaml, async (router) => {
    await withBrowser((browser) =>
      withPage(browser, DESKTOP, async (page) => {
        await page.goto(`${router.base}/?token=${encodeURIComponent(TOKEN)}`);
        await page.waitForSelector("#routes-body tr");
        await page.waitForSelector("#decisions-body");
        for (const [sni, username] of PLAYERS) await askConnect(router.quicPort, sni, username);
        await page.waitForFunction(
          (n: number) =>
            (globalThis as unknown as {
              document: { querySelectorAll(s: string): { length: number } };
            }).document.querySelectorAll("#decisions-body tr[data-username]").length >= n,
          {},
          PLAYERS.length,
        );
        await page.type("#x-sni", "eu.example.com");
        await page.type("#x-username", "Bram");
        await page.click('#explain-form button[type="submit"]');
        await page.waitForSelector("#explain-reply, #explain-error");
        await page.screenshot({ path: OUTPUT.pathname, fullPage: true });
      })
    );
  }, "dev/config.dev.yaml");
  console.log(`wrote ${OUTPUT.pathname}`);
}

if (import.meta.main) await main();
