/**
 * The dashboard's page, served at `/`: a fixed skeleton with no data in it. `/assets/app.js`
 * fills it from `/api/v1/*` (with the bearer token the login form takes) using text nodes only.
 * No inline script or style, so the strict Content-Security-Policy holds.
 */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Gatehouse operator console</title>
<link rel="icon" href="/assets/icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/assets/app.css">
<script src="/assets/app.js" defer></script>
</head>
<body>
<header>
  <h1>Gatehouse</h1>
  <span class="who" id="who"></span>
  <button type="button" id="logout" hidden>Log out</button>
</header>
<p id="announce" role="status" aria-live="polite"></p>
<main>
  <noscript><section><p>The console needs JavaScript (its own script, served by this router).</p></section></noscript>

  <section id="login" aria-labelledby="login-h" hidden>
    <h2 id="login-h">Log in</h2>
    <p id="login-msg" class="bad"></p>
    <form id="login-form" class="stack">
      <div>
        <label for="login-token">Admin token (the contents of admin.token_file)</label>
        <input id="login-token" name="token" type="password" autocomplete="current-password" required>
      </div>
      <div class="buttons"><button type="submit">Log in</button></div>
    </form>
    <p class="note">The token is kept in this tab only (session storage) and sent as a bearer token.</p>
  </section>

  <section id="api-off" aria-labelledby="api-off-h" hidden>
    <h2 id="api-off-h">The admin API is off</h2>
    <p>This router has no <code>admin.token_file</code> set, so <code>/api/v1/</code> answers 403 and
    the console has nothing to show. Set <code>admin.token_file</code> in the config and reload.</p>
  </section>

  <div id="console" class="grid2" hidden>
    <section id="status" aria-labelledby="status-h">
      <h2 id="status-h">Status</h2>
      <p class="note" data-note></p>
      <dl class="kv" id="status-list"></dl>
    </section>

    <section id="maintenance" aria-labelledby="maintenance-h">
      <h2 id="maintenance-h">Maintenance</h2>
      <p class="note" data-note></p>
      <form id="maintenance-form" class="stack" hidden>
        <label class="inline" for="m-enabled"><input id="m-enabled" type="checkbox"> Maintenance mode on</label>
        <div>
          <label for="m-message">Message shown to players</label>
          <textarea id="m-message" maxlength="2000"></textarea>
        </div>
        <div>
          <label for="m-bypass">Bypass: usernames, UUIDs or CIDRs, one per line</label>
          <textarea id="m-bypass" maxlength="20000"></textarea>
        </div>
        <p>Now: <strong id="m-now"></strong>, set by <strong id="m-source"></strong>.</p>
        <div class="buttons">
          <button type="submit" id="m-save">Save</button>
          <button type="button" id="m-follow" class="secondary">Follow config</button>
        </div>
      </form>
    </section>

    <section id="routes" aria-labelledby="routes-h">
      <h2 id="routes-h">Routes</h2>
      <p class="note" data-note></p>
      <div class="scroll"><table>
        <caption>Routes in match order, then the default pool</caption>
        <thead><tr><th scope="col">Route</th><th scope="col">Hostnames</th><th scope="col">Strategy</th><th scope="col">Static backends</th><th scope="col">Discovery</th></tr></thead>
        <tbody id="routes-body"></tbody>
      </table></div>
    </section>

    <section id="plugins" aria-labelledby="plugins-h">
      <h2 id="plugins-h">Plugins</h2>
      <p class="note" data-note></p>
      <div class="scroll"><table>
        <caption>Plugins in execution order</caption>
        <thead><tr><th scope="col">Name</th><th scope="col">Type</th><th scope="col">Stage</th><th scope="col">Breaker</th><th scope="col">Calls</th><th scope="col">Errors</th><th scope="col">ms p50 / p99</th></tr></thead>
        <tbody id="plugins-body"></tbody>
      </table></div>
    </section>

    <section id="backends" class="wide" aria-labelledby="backends-h">
      <h2 id="backends-h">Backends</h2>
      <p class="note" data-note></p>
      <div id="pools"></div>
    </section>

    <section id="explain" class="wide" aria-labelledby="explain-h">
      <h2 id="explain-h">Explain a decision</h2>
      <p class="note" data-note></p>
      <form id="explain-form" class="fields">
        <div><label for="x-sni">SNI (hostname)</label><input id="x-sni" type="text" required maxlength="255" autocapitalize="off" spellcheck="false"></div>
        <div><label for="x-username">Username</label><input id="x-username" type="text" required maxlength="64" autocapitalize="off" spellcheck="false"></div>
        <div><label for="x-uuid">UUID</label><input id="x-uuid" type="text" maxlength="36" autocapitalize="off" spellcheck="false"></div>
        <div><label for="x-language">Language</label><input id="x-language" type="text" maxlength="16" value="en" autocapitalize="off" spellcheck="false"></div>
        <div><label for="x-client-type">Client type</label><input id="x-client-type" type="number" min="0" max="255" value="0"></div>
        <div><label for="x-client-ip">Client IP (optional)</label><input id="x-client-ip" type="text" maxlength="45" autocapitalize="off" spellcheck="false"></div>
        <div class="buttons"><button type="submit">Explain</button></div>
      </form>
      <div id="explain-out" aria-live="polite"></div>
    </section>

    <section id="decisions" class="wide" aria-labelledby="decisions-h">
      <h2 id="decisions-h">Recent decisions</h2>
      <p class="note" data-note></p>
      <p id="live-state" class="note"></p>
      <div class="scroll"><table>
        <caption>Players arriving, newest first</caption>
        <thead><tr><th scope="col">Time</th><th scope="col">SNI</th><th scope="col">Username</th><th scope="col">Route</th><th scope="col">Backend</th><th scope="col">Outcome</th><th scope="col">Plugins</th><th scope="col">ms</th><th scope="col">Client</th></tr></thead>
        <tbody id="decisions-body"></tbody>
      </table></div>
    </section>
  </div>
</main>
</body>
</html>
`;
