/**
 * The operator dashboard in a real browser (Debian's chromium through puppeteer-core) against a
 * real router started in-process: what the page shows, its login, the phone layout, and the live
 * decisions. What an operator changes in it is console_actions_test.ts. Every wait is bounded
 * (chromium.ts WAIT_MS); the browser is closed in `finally`.
 */
import { assert, assertEquals, assertMatch } from "../support/assert.ts";
import { BrowserSuite, DESKTOP, PHONE, textOf, withPage } from "./chromium.ts";
import { CONFIG, openConsole, probe, waitForText } from "./console_page.ts";
import { TOKEN, withConsoleRouter } from "./console_router.ts";

const suite = new BrowserSuite();

suite.case("shows the configured routes and backends", async (browser) => {
  await withConsoleRouter(CONFIG, async (router) => {
    await withPage(browser, DESKTOP, async (page, pageErrors) => {
      await openConsole(page, router);
      assert(!page.url().includes("token"), `the token stays in the address bar: ${page.url()}`);
      const routes = await textOf(page, "#routes-body");
      assertMatch(routes, /routes\[0\]\s+play\.example\.com, \*\.play\.example\.com\s+round_robin/);
      assertMatch(routes, /default\s+\(every other hostname\)\s+round_robin/);
      await page.waitForSelector('table[data-pool="default"]');
      const pool = await textOf(page, 'table[data-pool="routes[0]"]');
      assertMatch(pool, /lobby-1\.internal:5521\s+0\s+static\s+zone=eu/);
      assertMatch(await textOf(page, 'table[data-pool="default"]'), /fallback\.internal:5520/);
      assertMatch(await textOf(page, "#plugins-body"), /gate\s+grpc\s+deny/);
      await waitForText(page, '[data-field="version"]', /\d+\.\d+\.\d+/);
      assertMatch(await textOf(page, '[data-field="ready"]'), /^ready/);
      assertEquals(pageErrors, []);
    });
  });
});

suite.case("a wrong token shows the login error; the right one logs in", async (browser) => {
  await withConsoleRouter(CONFIG, async (router) => {
    await withPage(browser, DESKTOP, async (page, pageErrors) => {
      await page.goto(`${router.base}/`);
      await page.waitForSelector("#login:not([hidden])");
      assertEquals(await textOf(page, "#login-msg"), "", "no error before a try");
      await page.type("#login-token", "not-the-token");
      await page.click('#login-form button[type="submit"]');
      await waitForText(page, "#login-msg", /not accepted/);
      await waitForText(page, "#announce", /not accepted/);
      assert(await page.$eval("#console", (el) => el.hasAttribute("hidden")));
      // Keyboard only: the field has focus after a click on its label, Enter submits.
      await page.click('label[for="login-token"]');
      await page.keyboard.type(TOKEN);
      await page.keyboard.press("Enter");
      await page.waitForSelector("#console:not([hidden])");
      await page.waitForSelector("#routes-body tr");
      assertEquals(await textOf(page, "#login-msg"), "");
      assertEquals(pageErrors, []);
    });
  });
});

suite.case("usable on a phone (390x844, no sideways scrolling)", async (browser) => {
  await withConsoleRouter(CONFIG, async (router) => {
    await withPage(browser, PHONE, async (page, pageErrors) => {
      await openConsole(page, router);
      await page.waitForSelector('table[data-pool="routes[0]"]');
      const widths = await page.evaluate(() => {
        const doc = globalThis as unknown as {
          document: { documentElement: { scrollWidth: number }; body: { scrollWidth: number } };
          innerWidth: number;
        };
        return {
          page: doc.document.documentElement.scrollWidth,
          body: doc.document.body.scrollWidth,
          viewport: doc.innerWidth,
        };
      });
      assertEquals(widths.viewport, PHONE.width);
      assert(widths.page <= widths.viewport, `page ${widths.page} > ${widths.viewport}`);
      assert(widths.body <= widths.viewport, `body ${widths.body} > ${widths.viewport}`);
      // The explain form's fields stack: each is as wide as the form, not squeezed side by side.
      const boxes = await Promise.all(
        ["#x-sni", "#x-username"].map(async (s) => (await page.$(s))?.boundingBox()),
      );
      assert(boxes.every((b) => b && b.width > PHONE.width / 2), JSON.stringify(boxes));
      assertEquals(pageErrors, []);
    });
  });
});

suite.case("a probe appears in the decisions table without a reload", async (browser) => {
  await withConsoleRouter(CONFIG, async (router) => {
    await withPage(browser, DESKTOP, async (page, pageErrors) => {
      await openConsole(page, router);
      await waitForText(page, "#live-state", /^Live:/);
      assertEquals(await probe(router, "play.example.com", "LiveProbe"), {
        kind: "referral",
        backend: "lobby-1.internal:5521",
      });
      await page.waitForSelector('#decisions-body tr[data-username="LiveProbe"]');
      const row = await textOf(page, '#decisions-body tr[data-username="LiveProbe"]');
      assertMatch(
        row,
        /play\.example\.com\s+LiveProbe\s+routes\[0\]\s+lobby-1\.internal:5521\s+referral/,
      );
      assertMatch(row, /gate: continue/);
      assertEquals(pageErrors, []);
    });
  });
});

suite.case("a dropped event stream is reconnected after a back-off", async (browser) => {
  await withConsoleRouter(CONFIG, async (router) => {
    await withPage(browser, DESKTOP, async (page) => {
      // The first two tries of /api/v1/events fail as a dropped connection would.
      let refused = 0;
      await page.setRequestInterception(true);
      page.on("request", (request) => {
        if (request.url().endsWith("/api/v1/events") && refused < 2) {
          refused++;
          void request.abort("connectionreset");
        } else void request.continue();
      });
      await openConsole(page, router);
      await waitForText(page, "#live-state", /reconnecting in 2 s/);
      await waitForText(page, "#live-state", /^Live:/);
      assertEquals(refused, 2);
      await probe(router, "play.example.com", "AfterDrop");
      await page.waitForSelector('#decisions-body tr[data-username="AfterDrop"]');
    });
  });
});

suite.case("markup in data (a backend's meta) shows as text", async (browser) => {
  const config = CONFIG.replace("meta: { zone: eu }", 'meta: { zone: "<b id=injected>eu</b>" }');
  await withConsoleRouter(config, async (router) => {
    await withPage(browser, DESKTOP, async (page, pageErrors) => {
      await openConsole(page, router);
      await waitForText(page, 'table[data-pool="routes[0]"]', /zone=<b id=injected>eu<\/b>/);
      assertEquals(await page.$("#injected"), null, "the meta was parsed as markup");
      assertEquals(pageErrors, []);
    });
  });
});

suite.case("without admin.token_file the page says the API is off", async (browser) => {
  await withConsoleRouter(CONFIG.replace(", token_file: admin.token", ""), async (router) => {
    await withPage(browser, DESKTOP, async (page, pageErrors) => {
      await page.goto(`${router.base}/`);
      await page.waitForSelector("#api-off:not([hidden])");
      assertMatch(await textOf(page, "#api-off"), /admin\.token_file/);
      assert(await page.$eval("#login", (el) => el.hasAttribute("hidden")), "login form shown");
      assertEquals(pageErrors, []);
    });
  });
});

suite.case("every control is reached with Tab and shows its focus", async (browser) => {
  await withConsoleRouter(CONFIG, async (router) => {
    await withPage(browser, DESKTOP, async (page, pageErrors) => {
      await openConsole(page, router);
      await page.waitForSelector('table[data-pool="default"] button');
      await page.waitForSelector("#maintenance-form:not([hidden])");
      const reached = new Set<string>();
      for (let i = 0; i < 40; i++) {
        await page.keyboard.press("Tab");
        const focused = await page.evaluate(() => {
          // Runs in the page; typed structurally (the test build has no DOM library).
          const g = globalThis as unknown as {
            document: {
              activeElement: {
                id: string;
                tagName: string;
                getAttribute(n: string): string | null;
              };
            };
            getComputedStyle(e: unknown): { outlineStyle: string };
          };
          const el = g.document.activeElement;
          return {
            id: el.id || el.getAttribute("aria-label") || el.getAttribute("type") ||
              `<${el.tagName.toLowerCase()} class="${el.getAttribute("class")}">`,
            outline: g.getComputedStyle(el).outlineStyle,
          };
        });
        if (focused.id === '<body class="null">') continue; // past the last control, around again
        assert(focused.outline !== "none", `no visible focus on ${focused.id}`);
        reached.add(focused.id);
      }
      for (const id of ["logout", "m-enabled", "m-message", "m-bypass", "m-save", "x-sni"]) {
        assert(reached.has(id), `${id} not reached: ${[...reached].join(", ")}`);
      }
      assert(reached.has("Drain lobby-1.internal:5521 in routes[0]"), [...reached].join(", "));
      assertEquals(pageErrors, []);
    });
  });
});

suite.register("dashboard in chromium: what the page shows, login, phone layout, live decisions");
