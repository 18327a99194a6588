/**
 * What the dashboard's browser tests share: the router config they run, opening the console
 * logged in, bounded waits on the page's text, and a player's probe read back as a referral or a
 * Disconnect.
 */
import type { Page } from "puppeteer-core";
import { assertEquals } from "../support/assert.ts";
import { parseClientReferral, parseDisconnect } from "../support/hytale_client_codec.ts";
import { askConnect } from "../support/router_harness.ts";
import { textOf } from "./chromium.ts";
import { type ConsoleRouter, TOKEN } from "./console_router.ts";

/** Two pools of one static backend each (so every pick is known) and one plugin. */
export const CONFIG = `
listen: "127.0.0.1:0"
admin: { listen: "127.0.0.1:0", token_file: admin.token }
routing:
  routes:
    - match: { hostnames: ["play.example.com", "*.play.example.com"] }
      pool:
        strategy: round_robin
        backends:
          - { host: lobby-1.internal, port: 5521, meta: { zone: eu } }
  default:
    strategy: round_robin
    backends: [ { host: fallback.internal, port: 5520 } ]
plugins:
  - { name: gate, type: grpc, stage: deny, failure_policy: continue, grpc: { address: "127.0.0.1:1" } }
`;

const REFERRAL = 18;
const DISCONNECT = 1;

/** Opens the console logged in through `?token=` and waits until its first data is shown. */
export async function openConsole(page: Page, router: ConsoleRouter): Promise<void> {
  await page.goto(`${router.base}/?token=${encodeURIComponent(TOKEN)}`);
  await page.waitForSelector("#console:not([hidden])");
  await page.waitForSelector("#routes-body tr");
}

/**
 * Waits until `selector`'s text matches `pattern`, at most `timeoutMs` (default: the page's
 * default timeout).
 */
export async function waitForText(
  page: Page,
  selector: string,
  pattern: RegExp,
  timeoutMs?: number,
): Promise<void> {
  await page.waitForFunction(
    (sel: string, source: string, flags: string) => {
      // Runs in the page; typed structurally (the test build has no DOM library).
      const el = (globalThis as unknown as {
        document: { querySelector(s: string): { textContent: string | null } | null };
      }).document.querySelector(sel);
      return el !== null && new RegExp(source, flags).test(el.textContent ?? "");
    },
    timeoutMs === undefined ? {} : { timeout: timeoutMs },
    selector,
    pattern.source,
    pattern.flags,
  );
}

/** Replaces the text of the field `selector` by typing `value` (as a user would, so it fires input). */
export async function fill(page: Page, selector: string, value: string): Promise<void> {
  await page.$eval(selector, (el) => ((el as unknown as { value: string }).value = ""));
  await page.type(selector, value);
}

/**
 * Waits for `ready` in section `id`; when the section's note says why it is not (404: not
 * available, 503), fails with that note instead of a timeout.
 */
export async function sectionReady(page: Page, id: string, ready: string): Promise<void> {
  await page.waitForSelector(`#${id} ${ready}, #${id} [data-note]:not(:empty)`);
  if ((await page.$(`#${id} ${ready}`)) === null) {
    throw new Error(`#${id}: ${await textOf(page, `#${id} [data-note]`)}`);
  }
}

/** What a player got. */
export type Reply =
  | { readonly kind: "referral"; readonly backend: string }
  | { readonly kind: "disconnect"; readonly message: string };

/** A player connecting with `sni` and `username`: the router's reply. */
export async function probe(router: ConsoleRouter, sni: string, username: string): Promise<Reply> {
  const reply = await askConnect(router.quicPort, sni, username);
  if (reply.id === REFERRAL) {
    const { host, port } = parseClientReferral(reply.payload);
    return { kind: "referral", backend: `${host}:${port}` };
  }
  assertEquals(reply.id, DISCONNECT, `frame ${reply.id}`);
  return { kind: "disconnect", message: parseDisconnect(reply.payload).reason };
}
