/**
 * The dashboard's style sheet, served as `/assets/app.css`. A string constant so the one-file
 * build and `deno compile` carry it (the router reads no files to serve the page). Narrow screens
 * stack the forms and let the tables scroll sideways inside their section, never the page.
 */
export const APP_CSS = `
:root {
  --fg: #1b1f24; --muted: #57606a; --bg: #f6f8fa; --card: #ffffff; --line: #d0d7de;
  --accent: #0b5cad; --ok: #1a7f37; --bad: #b42318; --warn: #9a6700;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  font-size: 15px; line-height: 1.45; color: var(--fg); background: var(--bg);
}
*, *::before, *::after { box-sizing: border-box; }
body { margin: 0; overflow-wrap: anywhere; }
header {
  display: flex; flex-wrap: wrap; align-items: center; gap: .5rem 1rem;
  padding: .6rem 1rem; background: #12263a; color: #fff;
}
header h1 { font-size: 1.2rem; margin: 0; }
header .who { font-size: .9rem; opacity: .85; flex: 1 1 auto; }
main { max-width: 1200px; margin: 0 auto; padding: .75rem; display: grid; gap: .75rem; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: .6rem .9rem; min-width: 0; }
section h2 { font-size: 1.05rem; margin: .2rem 0 .5rem; }
section h3 { font-size: .95rem; margin: .8rem 0 .3rem; }
.grid2 { display: grid; gap: .75rem; grid-template-columns: repeat(auto-fit, minmax(min(100%, 420px), 1fr)); }
.wide { grid-column: 1 / -1; }
.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; overflow-wrap: break-word; }
/* Every pool's table has the same columns: the same widths, so they line up under each other. */
table.pool { table-layout: fixed; min-width: 40rem; }
table.pool th:nth-child(1) { width: 34%; }
table.pool th:nth-child(2) { width: 8%; }
table.pool th:nth-child(3) { width: 11%; }
table.pool th:nth-child(4) { width: 22%; }
table.pool th:nth-child(5) { width: 13%; }
table.pool th:nth-child(6) { width: 12%; }
caption { text-align: left; font-weight: 600; padding: .2rem 0; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #eef1f4; white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .85rem; }
dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: .2rem .9rem; margin: 0; }
dl.kv dt { color: var(--muted); }
dl.kv dd { margin: 0; }
.note { color: var(--muted); font-style: italic; }
.ok { color: var(--ok); font-weight: 600; }
.bad { color: var(--bad); font-weight: 600; }
.warn { color: var(--warn); font-weight: 600; }
.tag { display: inline-block; padding: 0 .4rem; border-radius: 3px; border: 1px solid var(--line); font-size: .8rem; }
.tag.drained { border-color: var(--bad); color: var(--bad); }
form.stack { display: grid; gap: .5rem; max-width: 40rem; }
form.fields { display: grid; gap: .5rem .75rem; grid-template-columns: repeat(auto-fit, minmax(min(100%, 12rem), 1fr)); align-items: end; }
label { display: block; font-weight: 600; font-size: .9rem; }
label.inline { display: flex; align-items: center; gap: .4rem; }
input, textarea, select, button { font: inherit; }
input[type=text], input[type=password], input[type=number], textarea {
  width: 100%; padding: .35rem .45rem; border: 1px solid #8c959f; border-radius: 4px; background: #fff; color: var(--fg);
}
textarea { min-height: 4.5rem; resize: vertical; }
button {
  padding: .35rem .8rem; border-radius: 4px; border: 1px solid var(--accent);
  background: var(--accent); color: #fff; cursor: pointer;
}
button.secondary { background: #fff; color: var(--accent); }
button.small { padding: .1rem .5rem; font-size: .85rem; }
.buttons { display: flex; flex-wrap: wrap; gap: .5rem; }
:focus-visible { outline: 3px solid #f59e0b; outline-offset: 2px; }
header button { background: transparent; border-color: #fff; }
#announce { min-height: 1.4rem; margin: 0; padding: .3rem 1rem; background: #fff8c5; border-bottom: 1px solid var(--line); }
#announce:empty { padding: 0; border: 0; min-height: 0; }
.reply { font-size: 1.05rem; padding: .4rem .6rem; border-left: 4px solid var(--accent); background: #eef6ff; }
.reply.disconnect { border-color: var(--bad); background: #fff1f0; }
[hidden] { display: none !important; }
@media (max-width: 600px) {
  :root { font-size: 14px; }
  main { padding: .4rem; }
  section { padding: .5rem .6rem; }
  dl.kv { grid-template-columns: 1fr; }
  form.fields { grid-template-columns: 1fr; }
  dl.kv dd { margin-bottom: .3rem; }
}
`;
