/**
 * What an operator does in the dashboard (chromium through puppeteer-core) is what players then
 * get from the real router started in-process: maintenance switched on in the page, a backend
 * drained from it, and explain showing the backend a probe gets. Every wait is bounded.
 */
import type { Page } from "puppeteer-core";
import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { BrowserSuite, DESKTOP, textOf, withPage } from "./chromium.ts";
import { CONFIG, fill, openConsole, probe, sectionReady, waitForText } from "./console_page.ts";
import { TOKEN, withConsoleRouter } from "./console_router.ts";

const suite = new BrowserSuite();

/** Explains `sni`/`username` in the page's form; what its reply line shows. */
async function explainInPage(page: Page, sni: string, username: string) {
  await page.$eval("#explain-out", (el) => el.replaceChildren());
  await fill(page, "#x-sni", sni);
  await fill(page, "#x-username", username);
  await page.click('#explain-form button[type="submit"]');
  await page.waitForSelector("#explain-reply, #explain-error");
  const error = await textOf(page, "#explain-error");
  if (error !== "") throw new Error(`explain: ${error}`);
  return await page.$eval("#explain-reply", (el) => ({
    kind: el.getAttribute("data-kind"),
    backend: el.querySelector("[data-backend]")?.getAttribute("data-backend") ?? null,
  }));
}

suite.case("maintenance switched on in the page reaches the next player", async (browser) => {
  await withConsoleRouter(CONFIG, async (router) => {
    await withPage(browser, DESKTOP, async (page, pageErrors) => {
      await openConsole(page, router);
      await sectionReady(page, "maintenance", "#maintenance-form:not([hidden])");
      assertEquals(await textOf(page, "#m-now"), "off");
      await page.click("#m-enabled");
      await fill(page, "#m-message", "Updating to 1.2, back at 20:00.");
      await fill(page, "#m-bypass", "StaffMember");
      await page.click("#m-save");
      await waitForText(page, "#announce", /Saved\. Maintenance is on\./);
      assertEquals(await textOf(page, "#m-source"), "the API (runtime)");
      assertEquals(await probe(router, "play.example.com", "Player1"), {
        kind: "disconnect",
        message: "Updating to 1.2, back at 20:00.",
      });
      // Explain in the page says the same: a Disconnect with the message.
      assertEquals(await explainInPage(page, "play.example.com", "Player2"), {
        kind: "disconnect",
        backend: null,
      });
      assertMatch(await textOf(page, "#explain-reply"), /Updating to 1\.2, back at 20:00\./);
      assertEquals(await probe(router, "play.example.com", "StaffMember"), {
        kind: "referral",
        backend: "lobby-1.internal:5521",
      });
      // "Follow config" goes back to the config's setting (off).
      await page.click("#m-follow");
      await waitForText(page, "#announce", /Maintenance is off\./);
      assertEquals(await textOf(page, "#m-source"), "the config");
      assertEquals((await probe(router, "play.example.com", "Player1")).kind, "referral");
      assertEquals(pageErrors, []);
    });
  });
});

suite.case("Drain in the page takes a backend out of new decisions", async (browser) => {
  await withConsoleRouter(CONFIG, async (router) => {
    await withPage(browser, DESKTOP, async (page, pageErrors) => {
      await openConsole(page, router);
      const row = 'table[data-pool="routes[0]"] tr[data-backend="lobby-1.internal:5521"]';
      await page.waitForSelector(`${row} button`);
      assertEquals(await textOf(page, `${row} button`), "Drain");
      await page.click(`${row} button`);
      await waitForText(page, "#announce", /^(Drained|Could not)/);
      assertEquals(await textOf(page, "#announce"), "Drained lobby-1.internal:5521.");
      await waitForText(page, `${row} td:nth-of-type(4)`, /^drained$/);
      assertEquals((await probe(router, "play.example.com", "Drained1")).kind, "disconnect");
      await waitForText(page, `${row} button`, /^Undrain$/);
      await page.click(`${row} button`);
      await waitForText(page, "#announce", /^Undrained lobby-1\.internal:5521\.$/);
      assertEquals(await probe(router, "play.example.com", "Drained2"), {
        kind: "referral",
        backend: "lobby-1.internal:5521",
      });
      assertEquals(pageErrors, []);
    });
  });
});

suite.case("explain shows the backend a player then gets", async (browser) => {
  await withConsoleRouter(CONFIG, async (router) => {
    await withPage(browser, DESKTOP, async (page, pageErrors) => {
      await openConsole(page, router);
      for (const sni of ["eu.play.example.com", "other.net"]) {
        const shown = await explainInPage(page, sni, "Asker");
        const got = await probe(router, sni, "Asker");
        assert(got.kind === "referral", JSON.stringify(got));
        assertEquals(shown, { kind: "referral", backend: got.backend });
      }
      assertMatch(await textOf(page, "#explain-out"), /Route\s+default/);
      assertMatch(await textOf(page, "#explain-out"), /Plugin answers[\s\S]*gate\s+continue/);
      assertEquals(pageErrors, []);
    });
  });
});

suite.case("a change made through the API shows in the page without a reload", async (browser) => {
  await withConsoleRouter(CONFIG, async (router) => {
    await withPage(browser, DESKTOP, async (page, pageErrors) => {
      await openConsole(page, router);
      await waitForText(page, "#live-state", /^Live:/);
      await sectionReady(page, "maintenance", "#maintenance-form:not([hidden])");
      const api = (path: string, method: string, body: unknown) =>
        fetch(`${router.base}/api/v1/${path}`, {
          method,
          headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
          body: JSON.stringify(body),
        }).then((r) => r.text());
      await api("backends/drain", "POST", { backend: "fallback.internal:5520" });
      await api("maintenance", "PUT", { enabled: true, message: "Back soon." });
      // Well inside the page's 10 s refresh: the stream's state event brought these.
      const row = 'table[data-pool="default"] tr[data-backend="fallback.internal:5520"]';
      await waitForText(page, `${row} td:nth-of-type(4)`, /^drained$/, 4_000);
      await waitForText(page, "#m-now", /^on$/, 4_000);
      assertEquals(
        await page.$eval("#m-message", (el) => (el as unknown as { value: string }).value),
        "Back soon.",
      );
      assertEquals(pageErrors, []);
    });
  });
});

suite.register("dashboard in chromium: maintenance, drain and explain reach the players");
