/**
 * A plugin on plugins/process-kit that shows the test what the kit did: on_connect echoes the
 * ConnectInfo it was handed (as JSON in the referral content), fixed usernames pick a verdict,
 * `throw` throws, `meet` waits up to 5 s for a second `meet` call (ok when they met), `late`
 * answers after 200 ms; on_disconnect logs the DisconnectInfo it was handed,
 * or throws for outcome `throw`; a configure with `refuse` throws that text, one with `targets`
 * pushes them as set `from-configure`.
 */
import { runPlugin } from "../../../plugins/process-kit/mod.ts";
import type { ConnectResult } from "../../../plugins/process-kit/mod.ts";

const verdicts: Record<string, ConnectResult> = {
  deny: { ok: false, reason: "no entry" },
  "deny-silent": { ok: false },
  steer: {
    ok: true,
    candidates: [{ host: "x.internal", port: 1, meta: { group: "g" } }, {
      host: "y.internal",
      port: 2,
      weight: 5,
    }],
    selectedIndex: 1,
    backend: { host: "y.internal", port: 2 },
    referralContent: new Uint8Array([0, 1, 255]),
  },
};

let waiting: (() => void) | null = null;

/** Resolves true once two calls are inside it at the same time; false after 5 s alone. */
function meet(): Promise<boolean> {
  const other = waiting;
  if (other) {
    waiting = null;
    other();
    return Promise.resolve(true);
  }
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      waiting = null;
      resolve(false);
    }, 5_000);
    waiting = () => {
      clearTimeout(timer);
      resolve(true);
    };
  });
}

const plugin = await runPlugin({
  configure(config, plugin) {
    if (typeof config.refuse === "string") throw new Error(config.refuse);
    if (Array.isArray(config.targets)) plugin.setTargets("from-configure", config.targets);
  },
  async onConnect(info) {
    if (info.username === "throw") throw new Error("handler exploded");
    if (info.username === "late") await new Promise((resolve) => setTimeout(resolve, 200));
    if (info.username === "meet") {
      return await meet() ? { ok: true } : { ok: false, reason: "alone" };
    }
    const verdict = verdicts[info.username ?? ""];
    if (verdict) return verdict;
    const seen = { ...info, referralContent: info.referralContent && [...info.referralContent] };
    return { ok: true, referralContent: new TextEncoder().encode(JSON.stringify(seen)) };
  },
  onDisconnect(info) {
    if (info.outcome === "throw") throw new Error("disconnect exploded");
    plugin.log("info", "disconnect", info);
  },
});
console.log("console.log goes to stderr");
plugin.log("debug", "fixture up", { big: 2n ** 64n, error: new Error("as text") });
plugin.setTargets("pool-a", ["a.internal:1"], { blue: ["b.internal:2"] });
