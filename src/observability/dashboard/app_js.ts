/**
 * The dashboard's script, served as `/assets/app.js` (no inline script, so the page's
 * Content-Security-Policy can forbid it). Plain browser JavaScript with no library: it logs in
 * with the bearer token (kept in `sessionStorage`), fills the page from `/api/v1/*` with text
 * nodes only (every value is untrusted), follows `/api/v1/events` through `fetch()` (EventSource
 * cannot send the Authorization header) with a back-off on reconnect, and says "not available"
 * in a section whose endpoint answers 404. A string constant so the one-file build and
 * `deno compile` carry it; `String.raw` keeps its backslashes (regular expressions) as written.
 */
export const APP_JS = String.raw`
"use strict";
// Gatehouse operator console. Reads /api/v1/* with the bearer token from the login form and
// renders with text nodes only: every value from the API (SNI, usernames, meta) is untrusted.
(() => {
  const TOKEN_KEY = "gatehouse.admin.token";
  const MAX_ROWS = 200;
  const REFRESH_MS = 10000;
  const POLL_MS = 5000;
  const MAX_EVENT_CHARS = 1048576;
  const $ = (id) => document.getElementById(id);

  let token = null;
  // Bumped on every login, logout and "API off": loops of an older session stop by themselves.
  let session = 0;
  let streamAbort = null;
  let refreshTimer = null;
  let decisions = [];
  const seen = new Set();
  let maintenanceDirty = false;
  let maintenanceLocales = null;

  class HttpError extends Error {
    constructor(status, message, field) {
      super(message);
      this.status = status;
      this.field = field;
    }
  }
  const isAuth = (err) => err instanceof HttpError && (err.status === 401 || err.status === 403);

  // Builds an element; children are nodes or plain text (appended as text, never parsed).
  function h(tag, props, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") el.className = value;
      else if (key === "on") {
        for (const [type, fn] of Object.entries(value)) el.addEventListener(type, fn);
      } else el.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      el.append(child instanceof Node ? child : String(child));
    }
    return el;
  }

  function announce(text) {
    $("announce").textContent = text;
  }

  function note(section, text) {
    const el = $(section).querySelector("[data-note]");
    if (el) el.textContent = text;
  }

  function liveState(text) {
    $("live-state").textContent = text;
  }

  function describe(err) {
    if (err instanceof HttpError) {
      if (err.status === 404) return "Not available on this router (its API has no such endpoint).";
      if (err.status === 503) return "The router is starting; this refreshes by itself.";
      return err.message + (err.field ? " (field " + err.field + ")" : "");
    }
    return "Request failed: " + (err && err.message ? err.message : String(err));
  }

  async function api(path, method, body) {
    const headers = {};
    if (token !== null) headers.authorization = "Bearer " + token;
    const init = { method: method || "GET", headers, cache: "no-store" };
    if (body !== undefined) {
      headers["content-type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const res = await fetch("/api/v1/" + path, init);
    let data = null;
    try {
      data = await res.json();
    } catch (_) {
      data = null;
    }
    if (res.ok) return data;
    const message = data && typeof data.error === "string" ? data.error : "HTTP " + res.status;
    const field = data && typeof data.field === "string" ? data.field : null;
    if (res.status === 401) {
      loggedOut(token === null ? "" : "The token was not accepted (401). Enter the admin token again.");
    } else if (res.status === 403) apiOff();
    throw new HttpError(res.status, message, field);
  }

  // Loads one section: its note says why when the endpoint is missing (404) or failing.
  async function load(section, path, render) {
    try {
      const data = await api(path);
      note(section, "");
      render(data);
      return 200;
    } catch (err) {
      if (!isAuth(err)) note(section, describe(err));
      return err instanceof HttpError ? err.status : 0;
    }
  }

  const text = (v) => (v === null || v === undefined || v === "" ? "—" : String(v));

  // "host:port" of a backend, or a "host:port" text as it is.
  function addr(b) {
    if (typeof b === "string") return b;
    if (!b || typeof b !== "object") return text(b);
    const host = String(b.host);
    return (host.includes(":") ? "[" + host + "]" : host) + ":" + b.port;
  }

  const addrList = (list) => (Array.isArray(list) && list.length ? list.map(addr).join(", ") : "(none)");
  // An explained candidate: its address, marked when an operator drained it.
  const candidate = (b) => addr(b) + (b && b.drained === true ? " (drained)" : "");

  function uptime(seconds) {
    let s = Math.floor(Number(seconds) || 0);
    const d = Math.floor(s / 86400);
    s -= d * 86400;
    const hr = Math.floor(s / 3600);
    s -= hr * 3600;
    const m = Math.floor(s / 60);
    s -= m * 60;
    return (d ? d + "d " : "") + (d || hr ? hr + "h " : "") + (d || hr || m ? m + "m " : "") + s + "s";
  }

  function kv(rows) {
    return rows.flatMap(([key, label, value]) => [h("dt", null, label), h("dd", { "data-field": key }, value)]);
  }

  function renderStatus(s) {
    const failing = (s.checks || []).filter((c) => !c.ok).map((c) => c.name + (c.detail ? ": " + c.detail : ""));
    const config = s.config || {};
    const sha = typeof config.sha256 === "string" ? config.sha256 : "";
    const state = s.state;
    const where = state ? text(state.where || state.store) + (state.shared ? " — shared by every replica" : " — not shared") : "—";
    $("status-list").replaceChildren(...kv([
      ["version", "Version", text(s.version)],
      ["replica", "Replica", s.replica ? text(s.replica.id) : "—"],
      ["config", "Config", h("span", null, text(config.source), " ", h("code", { title: sha }, sha ? "sha256 " + sha.slice(0, 12) + "…" : ""))],
      ["ready", "Ready", h("span", { class: s.ready ? "ok" : "bad" }, s.ready ? "ready" : "not ready" + (failing.length ? ": " + failing.join("; ") : ""))],
      ["state", "State store", where],
      ["uptime", "Uptime", uptime(s.uptime_seconds)],
    ]));
    $("who").textContent = "v" + text(s.version) + (s.replica ? " · replica " + text(s.replica.id) : "");
  }

  function routeRow(r) {
    const hosts = Array.isArray(r.hostnames) && r.hostnames.length ? r.hostnames.join(", ") : "(every other hostname)";
    const discovery = r.discovery ? text(r.discovery.provider) + " (" + text(r.discovery.mode) + ")" : "—";
    return h("tr", { "data-route": r.route },
      h("th", { scope: "row" }, text(r.route)),
      h("td", null, hosts),
      h("td", null, text(r.strategy)),
      h("td", { class: "num" }, text(r.static_backends)),
      h("td", null, discovery));
  }

  function renderRoutes(d) {
    const rows = (d.routes || []).map(routeRow);
    if (d.default) rows.push(routeRow(d.default));
    $("routes-body").replaceChildren(...rows);
  }

  function metaText(meta) {
    if (!meta || typeof meta !== "object") return "—";
    const keys = Object.keys(meta);
    if (!keys.length) return "—";
    return keys.map((k) => k + "=" + (typeof meta[k] === "string" ? meta[k] : JSON.stringify(meta[k]))).join(", ");
  }

  function backendRow(pool, b) {
    const a = addr(b);
    const known = typeof b.drained === "boolean";
    const drained = b.drained === true;
    const action = known
      ? h("button", {
        type: "button",
        class: "small secondary",
        "data-focus-key": pool + "|" + a,
        "aria-label": (drained ? "Undrain " : "Drain ") + a + " in " + pool,
        on: { click: () => drain(a, !drained) },
      }, drained ? "Undrain" : "Drain")
      : "—";
    return h("tr", { "data-backend": a },
      h("th", { scope: "row", class: "mono" }, a),
      h("td", { class: "num" }, text(b.weight)),
      h("td", null, text(b.source)),
      h("td", { class: "mono" }, metaText(b.meta)),
      h("td", null, drained ? h("span", { class: "tag drained" }, "drained") : known ? "in rotation" : "—"),
      h("td", null, action));
  }

  function renderBackends(d) {
    // A refresh replaces the buttons: give focus back to the one that had it.
    const focused = document.activeElement && document.activeElement.getAttribute("data-focus-key");
    const tables = (d.pools || []).map((p) => {
      const rows = (p.backends || []).map((b) => backendRow(p.route, b));
      const hosts = Array.isArray(p.hostnames) && p.hostnames.length ? " — " + p.hostnames.join(", ") : "";
      const source = p.discovery ? " · discovery " + text(p.discovery.provider) : "";
      return h("div", { class: "scroll" }, h("table", { class: "pool", "data-pool": p.route },
        h("caption", null, text(p.route) + hosts + " · " + text(p.strategy) + source),
        h("thead", null, h("tr", null, ["Backend", "Weight", "Source", "Meta", "State", "Action"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", null, rows.length ? rows : h("tr", null, h("td", { colspan: "6", class: "note" }, "No backends right now.")))));
    });
    $("pools").replaceChildren(...tables);
    if (focused) {
      for (const button of $("pools").querySelectorAll("button[data-focus-key]")) {
        if (button.getAttribute("data-focus-key") === focused) {
          button.focus();
          break;
        }
      }
    }
  }

  async function drain(backend, on) {
    const what = on ? "drain" : "undrain";
    try {
      await api("backends/" + what, "POST", { backend });
      announce((on ? "Drained " : "Undrained ") + backend + ".");
    } catch (err) {
      if (!isAuth(err)) announce("Could not " + what + " " + backend + ": " + describe(err));
    }
    await refreshBackends();
  }

  // {p50, p99} over the plugin's latest calls, in ms; null before any call.
  function latency(l) {
    if (!l || typeof l.p50 !== "number" || typeof l.p99 !== "number") return "—";
    return l.p50.toFixed(1) + " / " + l.p99.toFixed(1);
  }

  function renderPlugins(d) {
    const plugins = d.plugins || [];
    const rows = plugins.map((p) => {
      const errors = Object.entries(p.errors || {}).filter(([, n]) => n > 0);
      const breaker = p.breaker_open === null || p.breaker_open === undefined
        ? "—"
        : h("span", { class: p.breaker_open ? "bad" : "ok" }, p.breaker_open ? "open (calls skipped)" : "closed");
      return h("tr", null,
        h("th", { scope: "row" }, text(p.name)),
        h("td", null, text(p.type)),
        h("td", null, text(p.stage)),
        h("td", null, breaker),
        h("td", { class: "num" }, text(p.calls)),
        h("td", null, errors.length ? errors.map(([k, n]) => k + " " + n).join(", ") : "0"),
        h("td", { class: "num" }, latency(p.latency_ms)));
    });
    $("plugins-body").replaceChildren(...(rows.length ? rows : [h("tr", null, h("td", { colspan: "7", class: "note" }, "No plugins configured."))]));
  }

  function renderMaintenance(m, force) {
    $("maintenance-form").hidden = false;
    $("m-now").textContent = m.enabled ? "on" : "off";
    $("m-now").className = m.enabled ? "warn" : "ok";
    $("m-source").textContent = m.source === "api" ? "the API (runtime)" : "the config";
    $("m-follow").disabled = m.source !== "api";
    if (maintenanceDirty && !force) return;
    $("m-enabled").checked = m.enabled === true;
    $("m-message").value = typeof m.message === "string" ? m.message : "";
    $("m-bypass").value = Array.isArray(m.bypass) ? m.bypass.join("\n") : "";
    const locales = m.message_locales;
    maintenanceLocales = locales && typeof locales === "object" && Object.keys(locales).length ? locales : null;
    maintenanceDirty = false;
  }

  async function changeMaintenance(method, body, done) {
    try {
      let m = await api("maintenance", method, body);
      if (!m || typeof m.enabled !== "boolean") m = await api("maintenance");
      maintenanceDirty = false;
      renderMaintenance(m, true);
      note("maintenance", "");
      announce(done + " Maintenance is " + (m.enabled ? "on" : "off") + ".");
    } catch (err) {
      if (!isAuth(err)) announce("Maintenance not changed: " + describe(err));
    }
  }

  function saveMaintenance(event) {
    event.preventDefault();
    const body = {
      enabled: $("m-enabled").checked,
      message: $("m-message").value,
      bypass: $("m-bypass").value.split("\n").map((s) => s.trim()).filter((s) => s !== ""),
    };
    if (maintenanceLocales) body.message_locales = maintenanceLocales;
    return changeMaintenance("PUT", body, "Saved.");
  }

  function renderExplain(x) {
    const r = x.reply || {};
    const reply = r.kind === "referral"
      ? h("p", { class: "reply", id: "explain-reply", "data-kind": "referral" }, "Referral to ", h("strong", { class: "mono", "data-backend": r.backend }, text(r.backend)))
      : h("p", { class: "reply disconnect", id: "explain-reply", "data-kind": "disconnect" }, "Disconnect (" + text(r.outcome) + (r.detail ? ": " + r.detail : "") + "). The player reads: ", h("strong", null, text(r.message)));
    const matched = x.route && x.route.matched;
    const how = !matched ? "" : typeof matched.hostname === "string"
      ? " (matched " + matched.hostname + (matched.glob ? ", a pattern)" : " exactly)")
      : " (matched " + JSON.stringify(matched) + ")";
    const route = x.route ? text(x.route.label) + how : "no route";
    const m = x.maintenance;
    const facts = [["route", "Route", route]];
    if (m) facts.push(["maintenance", "Maintenance", m.enabled ? (m.bypassed ? "on, this player is bypassed" : "on") : "off"]);
    const resolved = x.candidates && Array.isArray(x.candidates.resolved) ? x.candidates.resolved : [];
    if (x.candidates) facts.push(["resolved", "Candidates", resolved.length ? resolved.map(candidate).join(", ") : "(none)"]);
    if (x.candidates && x.candidates.allocation) facts.push(["allocation", "Allocation", "not made by explain (" + x.candidates.allocation + ")"]);
    const nodes = [reply, h("dl", { class: "kv" }, kv(facts))];
    const attempts = (x.candidates && x.candidates.attempts) || [];
    if (attempts.length) {
      nodes.push(h("div", { class: "scroll" }, h("table", null,
        h("caption", null, "Each attempt of the strategy"),
        h("thead", null, h("tr", null, ["#", "Strategy", "After filters", "After sort", "After limit", "Picked"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", null, attempts.map((a, i) => h("tr", null,
          h("th", { scope: "row" }, String(i + 1)),
          h("td", null, text(a.strategy)),
          h("td", { class: "mono" }, addrList(a.after_filters)),
          h("td", { class: "mono" }, addrList(a.after_sort)),
          h("td", { class: "mono" }, addrList(a.after_limit)),
          h("td", { class: "mono" }, picked(a))))))));
    }
    const plugins = x.plugins || [];
    if (plugins.length) {
      nodes.push(h("div", { class: "scroll" }, h("table", null,
        h("caption", null, "Plugin answers"),
        h("thead", null, h("tr", null, ["Plugin", "Verdict", "ms", "Answer", "Error"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", null, plugins.map((p) => h("tr", null,
          h("th", { scope: "row" }, text(p.plugin)),
          h("td", null, text(p.verdict)),
          h("td", { class: "num" }, typeof p.ms === "number" ? p.ms.toFixed(1) : "—"),
          h("td", { class: "mono" }, p.answer === undefined ? "—" : JSON.stringify(p.answer)),
          h("td", null, text(p.error))))))));
    }
    return nodes;
  }

  // An attempt's pick: "host:port", a backend, or an index into after_limit; else why none.
  function picked(a) {
    const p = typeof a.picked === "number" ? (a.picked >= 0 && Array.isArray(a.after_limit) ? a.after_limit[a.picked] : null) : a.picked;
    if (p !== null && p !== undefined) return addr(p);
    return "none" + (a.note ? ": " + a.note : "");
  }

  async function explain(event) {
    event.preventDefault();
    const body = { sni: $("x-sni").value.trim(), username: $("x-username").value.trim() };
    const uuid = $("x-uuid").value.trim();
    const clientIp = $("x-client-ip").value.trim();
    const language = $("x-language").value.trim();
    const clientType = $("x-client-type").value.trim();
    if (uuid) body.uuid = uuid;
    if (language) body.language = language;
    if (clientType !== "") body.client_type = Number(clientType);
    if (clientIp) body.client_ip = clientIp;
    const out = $("explain-out");
    out.replaceChildren(h("p", { class: "note" }, "Asking the router…"));
    try {
      out.replaceChildren(...renderExplain(await api("explain", "POST", body)));
    } catch (err) {
      if (!isAuth(err)) out.replaceChildren(h("p", { class: "bad", id: "explain-error" }, describe(err)));
    }
  }

  const decisionKey = (d) => [d.time, d.sni, d.username, d.uuid, d.outcome, d.backend, d.duration_ms].join("|");

  function addDecisions(list) {
    let changed = false;
    for (const d of list) {
      if (!d || typeof d !== "object") continue;
      const key = decisionKey(d);
      if (seen.has(key)) continue;
      seen.add(key);
      decisions.push(d);
      changed = true;
    }
    if (!changed) return;
    decisions.sort((a, b) => (String(a.time) < String(b.time) ? 1 : String(a.time) > String(b.time) ? -1 : 0));
    while (decisions.length > MAX_ROWS) seen.delete(decisionKey(decisions.pop()));
    renderDecisions();
  }

  function outcomeClass(outcome) {
    if (outcome === "referral") return "ok";
    return outcome === "maintenance" ? "warn" : "bad";
  }

  function renderDecisions() {
    const rows = decisions.map((d) => {
      const time = String(d.time);
      const plugins = (d.plugins || []).map((p) => p.plugin + ": " + p.verdict + (p.error ? " (" + p.error + ")" : "")).join("; ");
      return h("tr", { "data-username": d.username },
        h("td", { class: "mono" }, h("time", { datetime: time, title: time }, time.slice(11, 23) || time)),
        h("td", null, text(d.sni)),
        h("td", null, text(d.username)),
        h("td", null, text(d.route)),
        h("td", { class: "mono" }, text(d.backend)),
        h("td", null, h("span", { class: outcomeClass(d.outcome) }, text(d.outcome))),
        h("td", null, plugins || "—"),
        h("td", { class: "num" }, typeof d.duration_ms === "number" ? d.duration_ms.toFixed(1) : "—"),
        h("td", { class: "mono" }, text(d.client)));
    });
    $("decisions-body").replaceChildren(...(rows.length ? rows : [h("tr", null, h("td", { colspan: "9", class: "note" }, "No decisions yet."))]));
  }

  const loadDecisions = () => load("decisions", "decisions?limit=50", (d) => addDecisions(d.decisions || []));
  const refreshBackends = () => load("backends", "backends", renderBackends);
  const refreshMaintenance = () => load("maintenance", "maintenance", (m) => renderMaintenance(m, false));

  function refreshAll() {
    load("status", "status", renderStatus);
    load("routes", "routes", renderRoutes);
    load("plugins", "plugins", renderPlugins);
    refreshBackends();
    if (!maintenanceDirty && !$("maintenance-form").contains(document.activeElement)) refreshMaintenance();
  }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  function dispatch(block) {
    let type = "message";
    const data = [];
    for (const line of block.split(/\r?\n/)) {
      if (line === "" || line.startsWith(":")) continue;
      const at = line.indexOf(":");
      const field = at === -1 ? line : line.slice(0, at);
      let value = at === -1 ? "" : line.slice(at + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "event") type = value;
      else if (field === "data") data.push(value);
    }
    if (!data.length) return;
    let payload;
    try {
      payload = JSON.parse(data.join("\n"));
    } catch (_) {
      return;
    }
    if (type === "decision") addDecisions([payload]);
    else if (type === "state") {
      refreshBackends();
      if (!maintenanceDirty) refreshMaintenance();
    }
  }

  // Server-Sent Events read from a fetch() body: EventSource cannot send the Authorization header.
  async function readEvents(body, mine) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done || mine !== session) return;
        buffer += value;
        if (buffer.length > MAX_EVENT_CHARS) throw new Error("an event over 1 MiB");
        for (;;) {
          const end = buffer.search(/\r?\n\r?\n/);
          if (end === -1) break;
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, "");
          dispatch(block);
        }
      }
    } finally {
      reader.cancel().catch(() => {});
    }
  }

  async function pollDecisions(mine) {
    liveState("Live updates are not available on this router; refreshing every 5 s.");
    while (mine === session) {
      await sleep(POLL_MS);
      if (mine !== session) return;
      if ((await loadDecisions()) === 404) return;
    }
  }

  async function follow(mine) {
    let failures = 0;
    while (mine === session) {
      const abort = new AbortController();
      streamAbort = abort;
      let since = 0;
      try {
        const res = await fetch("/api/v1/events", {
          headers: { authorization: "Bearer " + token, accept: "text/event-stream" },
          cache: "no-store",
          signal: abort.signal,
        });
        if (res.status === 401) return loggedOut("The token was not accepted (401). Enter the admin token again.");
        if (res.status === 403) return apiOff();
        if (res.status === 404) return pollDecisions(mine);
        if (!res.ok || !res.body) throw new Error("HTTP " + res.status);
        since = Date.now();
        liveState("Live: new decisions appear as players arrive.");
        loadDecisions(); // what arrived while the stream was down
        await readEvents(res.body, mine);
        throw new Error("the stream ended");
      } catch (err) {
        if (mine !== session) return;
        // A stream that stayed up a while starts the back-off again from 1 s.
        failures = since && Date.now() - since > 30000 ? 1 : failures + 1;
        const delay = Math.min(30000, 1000 * 2 ** Math.min(failures - 1, 5));
        liveState("Live updates dropped (" + (err && err.message ? err.message : String(err)) + "); reconnecting in " + delay / 1000 + " s.");
        await sleep(delay);
      }
    }
  }

  function stop() {
    session++;
    if (streamAbort) streamAbort.abort();
    streamAbort = null;
    clearInterval(refreshTimer);
    refreshTimer = null;
  }

  function loggedOut(message) {
    stop();
    token = null;
    sessionStorage.removeItem(TOKEN_KEY);
    $("console").hidden = true;
    $("logout").hidden = true;
    $("api-off").hidden = true;
    $("login").hidden = false;
    $("login-msg").textContent = message;
    if (message) announce(message);
    $("login-token").focus();
  }

  function apiOff() {
    stop();
    $("console").hidden = true;
    $("logout").hidden = true;
    $("login").hidden = true;
    $("api-off").hidden = false;
    announce("The admin API is off: admin.token_file is not set.");
  }

  async function enter() {
    stop();
    const mine = session;
    $("login").hidden = true;
    $("api-off").hidden = true;
    await load("status", "status", renderStatus);
    if (mine !== session) return; // 401 or 403: the login form or the "off" note is showing
    $("console").hidden = false;
    $("logout").hidden = false;
    decisions = [];
    seen.clear();
    maintenanceDirty = false;
    renderDecisions();
    refreshAll();
    loadDecisions();
    follow(mine);
    refreshTimer = setInterval(() => {
      if (mine === session) refreshAll();
    }, REFRESH_MS);
  }

  function login(event) {
    event.preventDefault();
    const input = $("login-token");
    const value = input.value.trim();
    input.value = "";
    if (!value) return;
    token = value;
    sessionStorage.setItem(TOKEN_KEY, value);
    $("login-msg").textContent = "";
    announce("");
    enter();
  }

  function start() {
    $("login-form").addEventListener("submit", login);
    $("logout").addEventListener("click", () => {
      loggedOut("");
      announce("Logged out.");
    });
    $("maintenance-form").addEventListener("submit", saveMaintenance);
    $("maintenance-form").addEventListener("input", () => {
      maintenanceDirty = true;
    });
    $("m-follow").addEventListener("click", () => changeMaintenance("DELETE", undefined, "Following the config again."));
    $("explain-form").addEventListener("submit", explain);
    // ?token=… logs in once; the address bar (and history) keep no copy of it.
    const url = new URL(location.href);
    const given = url.searchParams.get("token");
    if (given !== null) {
      url.searchParams.delete("token");
      history.replaceState(null, "", url.pathname + url.search + url.hash);
      if (given.trim()) sessionStorage.setItem(TOKEN_KEY, given.trim());
    }
    token = sessionStorage.getItem(TOKEN_KEY);
    if (token !== null) return enter();
    // No token yet: ask without one. 403 means the API is off, 401 that a token is needed.
    api("status").then(() => enter(), (err) => {
      if (!isAuth(err)) loggedOut("");
    });
  }

  start();
})();
`;
