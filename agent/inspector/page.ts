/** The inspector's one page: plain HTML, CSS and script, no build step; it follows /api/events. */
export const INSPECTOR_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>pc2 inspector</title>
<style>
:root{--bg:#f6f7f9;--card:#fff;--ink:#1d2330;--mute:#6b7385;--line:#e3e6ec;--ok:#12805c;--bad:#c0392b;--warn:#b7791f;--accent:#2f5bea}
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;background:var(--bg);color:var(--ink)}
header{display:flex;align-items:center;gap:12px;padding:14px 22px;background:var(--ink);color:#fff}
header h1{font-size:17px;margin:0;font-weight:600}header a{color:#c9d6ff}
.badge{font-size:12px;font-weight:700;letter-spacing:.04em;padding:3px 9px;border-radius:999px;background:#555}
.badge.online{background:var(--ok)}.badge.offline,.badge.stopped{background:var(--bad)}.badge.starting{background:var(--warn)}
main{display:grid;grid-template-columns:340px 1fr;gap:18px;padding:18px 22px}
section{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:14px 16px}
h2{font-size:13px;text-transform:uppercase;letter-spacing:.06em;color:var(--mute);margin:0 0 10px}
dl{display:grid;grid-template-columns:auto 1fr;gap:4px 12px;margin:0}dt{color:var(--mute)}dd{margin:0;word-break:break-all}
.sn{border-top:1px solid var(--line);padding:8px 0 2px;font-size:13px}.sn:first-of-type{border-top:0}
.dot{display:inline-block;width:8px;height:8px;border-radius:50%;margin-right:6px;background:#aaa}
.up{background:var(--ok)}.down{background:var(--bad)}.connecting{background:var(--warn)}
.app-down{color:var(--bad);font-weight:600}
table{width:100%;border-collapse:collapse;font-size:13px}th{text-align:left;color:var(--mute);font-weight:600;border-bottom:1px solid var(--line);padding:6px 8px}
td{padding:6px 8px;border-bottom:1px solid var(--line);white-space:nowrap}td.path{white-space:normal;word-break:break-all;font-family:ui-monospace,Menlo,monospace}
tbody tr{cursor:pointer}tbody tr:hover{background:#f0f3ff}tbody tr.sel{background:#e3eaff}
.s2{color:var(--ok)}.s3{color:var(--accent)}.s4{color:var(--warn)}.s5,.s0{color:var(--bad)}
.bar{display:flex;align-items:center;gap:10px;margin-bottom:10px}.bar h2{margin:0;flex:1}
button{font:inherit;font-size:13px;padding:4px 12px;border:1px solid var(--line);border-radius:6px;background:#fff;cursor:pointer}button:hover{border-color:var(--accent)}
#detail{margin-top:14px}#detail pre{background:var(--bg);border-radius:8px;padding:10px;margin:0;font-size:12px;white-space:pre-wrap}
.empty{color:var(--mute);padding:18px 8px;text-align:center}
</style></head><body>
<header><h1 id="name">pc2 node</h1><span id="state" class="badge">…</span><a id="url" target="_blank" rel="noreferrer"></a></header>
<main>
<div>
<section><h2>Node</h2><dl>
<dt>mode</dt><dd id="mode">-</dd>
<dt>published</dt><dd id="published">-</dd>
<dt>lease until</dt><dd id="expires">-</dd>
<dt>app</dt><dd id="app">-</dd>
<dt>direct listener</dt><dd id="listen">-</dd>
</dl><div id="routeError" class="app-down"></div></section>
<section style="margin-top:18px"><h2>Super nodes</h2><div id="supernodes"></div></section>
</div>
<section><div class="bar"><h2>Requests <span id="count"></span></h2><button id="pause" type="button">Pause</button><button id="clear" type="button">Clear</button></div>
<table><thead><tr><th>time</th><th>method</th><th>path</th><th>status</th><th>duration</th><th>in</th><th>out</th><th>via</th></tr></thead>
<tbody id="requests"></tbody></table><div id="none" class="empty">No requests yet: they show up here as they pass through.</div>
<div id="detail" hidden><h2>Request</h2><pre id="detailText"></pre></div></section>
</main>
<script>
const $ = (id) => document.getElementById(id);
const rows = new Map();
let paused = false, selected = null;
const t = (ms) => ms ? new Date(ms).toLocaleTimeString() : '-';
const bytes = (n) => n < 1024 ? n + ' B' : n < 1048576 ? (n / 1024).toFixed(1) + ' kB' : (n / 1048576).toFixed(1) + ' MB';
const cell = (text, cls) => { const td = document.createElement('td'); td.textContent = text; if (cls) td.className = cls; return td; };
function showStatus(s) {
  $('name').textContent = s.name;
  const st = $('state'); st.textContent = s.state.toUpperCase(); st.className = 'badge ' + s.state;
  const u = $('url'); u.textContent = s.publicUrl || ''; if (s.publicUrl) u.href = s.publicUrl;
  $('mode').textContent = s.mode || '-';
  $('published').textContent = t(s.publishedAt);
  $('expires').textContent = t(s.expiresAt);
  const app = $('app');
  app.textContent = s.app.state === 'down' ? 'not answering at ' + s.app.url + ' (' + s.app.detail + ')' : s.app.state === 'up' ? 'answering at ' + s.app.url : 'not checked yet';
  app.className = s.app.state === 'down' ? 'app-down' : '';
  $('listen').textContent = s.listen || '-';
  $('routeError').textContent = s.routeError ? 'route not renewed: ' + s.routeError : '';
  const list = $('supernodes'); list.replaceChildren();
  for (const n of s.superNodes) {
    const div = document.createElement('div'); div.className = 'sn';
    const dot = document.createElement('span'); dot.className = 'dot ' + (s.mode === 'direct' ? n.registry : n.tunnel.replace(' ', '-'));
    const b = document.createElement('b'); b.textContent = n.url;
    const info = document.createElement('div');
    info.textContent = 'registry ' + n.registry + ' · tunnel ' + n.tunnel + (n.detail ? ' · ' + n.detail : '');
    div.append(dot, b, info); list.append(div);
  }
}
function select(r, tr) {
  selected = r.id;
  for (const x of document.querySelectorAll('tbody tr.sel')) x.classList.remove('sel');
  tr.classList.add('sel');
  $('detail').hidden = false;
  $('detailText').textContent = JSON.stringify({ ...r, time: new Date(r.time).toISOString() }, null, 2);
}
function addRequest(r) {
  if (rows.has(r.id)) return;
  const tr = document.createElement('tr'); tr.dataset.id = r.id;
  tr.append(cell(t(r.time)), cell(r.method), cell(r.path, 'path'), cell(r.status ? String(r.status) : '-', 's' + String(r.status).charAt(0)),
    cell(r.durationMs + ' ms'), cell(bytes(r.bytesIn)), cell(bytes(r.bytesOut)), cell(r.via));
  tr.addEventListener('click', () => select(r, tr));
  $('requests').prepend(tr); rows.set(r.id, tr);
  while (rows.size > 500) { const [id, old] = rows.entries().next().value; old.remove(); rows.delete(id); }
  $('none').hidden = true; $('count').textContent = '(' + rows.size + ')';
}
function clearRows() { rows.clear(); $('requests').replaceChildren(); $('none').hidden = false; $('count').textContent = ''; $('detail').hidden = true; }
$('pause').addEventListener('click', () => { paused = !paused; $('pause').textContent = paused ? 'Resume' : 'Pause'; });
$('clear').addEventListener('click', () => fetch('/api/clear', { method: 'POST', headers: { 'x-pc2-inspector': '1' } }).then(clearRows));
const events = new EventSource('/api/events');
events.addEventListener('state', (e) => { const d = JSON.parse(e.data); showStatus(d.status); clearRows(); d.requests.forEach(addRequest); });
events.addEventListener('status', (e) => showStatus(JSON.parse(e.data)));
events.addEventListener('request', (e) => { if (!paused) addRequest(JSON.parse(e.data)); });
events.addEventListener('cleared', clearRows);
</script></body></html>
`;
