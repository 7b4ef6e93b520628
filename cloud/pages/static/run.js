// The Run panel: starts a WASM run (POST /api/apps/run) and shows its NDJSON events live; the
// file manager opens it as /apps/run?module=<path>&dir=<folder>.
import { records } from './stream.js';

const $ = (id) => document.getElementById(id);
let running = null;

function show(stream, text) {
  const span = document.createElement('span');
  span.className = stream;
  span.textContent = text;
  $('output').append(span);
}

function describe(e) {
  const what = {
    exited: `exited with code ${e.code}`, timeout: 'stopped at its time limit', memory: 'stopped: over its memory limit',
    'output-limit': 'stopped: too much output', 'write-limit': 'stopped: wrote too much', trap: 'trapped', error: 'failed', cancelled: 'stopped',
  }[e.status] ?? e.status;
  const changes = e.changes ? ` · written ${e.changes.written.length}, created ${e.changes.created.length}, trashed ${e.changes.trashed.length}, skipped ${e.changes.skipped.length}` : '';
  return `${what} after ${e.ms} ms${e.message ? ` (${e.message})` : ''}${changes}`;
}

async function run() {
  const body = { module: $('module').value.trim(), args: $('args').value.split('\n').filter((a) => a !== ''), stdin: $('stdin').value };
  if ($('dir').value.trim()) body.dir = $('dir').value.trim();
  if ($('write').checked) body.write = true;
  if ($('timeout').value) body.timeoutMs = Number($('timeout').value);
  $('output').replaceChildren();
  $('status').textContent = 'starting…';
  running = new AbortController();
  $('run').disabled = true;
  $('stop').disabled = false;
  try {
    const res = await fetch('/api/apps/run', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: running.signal });
    if (!res.headers.get('content-type')?.startsWith('application/x-ndjson')) {
      const json = await res.json();
      $('status').textContent = res.status === 401 ? 'Sign in with your wallet in the file manager first.' : `refused: ${json.error.message}`;
      return;
    }
    for await (const line of records(res, '\n')) {
      const e = JSON.parse(line);
      if (e.type === 'queued') $('status').textContent = `waiting for a free slot (${e.position} ahead)…`;
      else if (e.type === 'start') $('status').textContent = 'running…';
      else if (e.type === 'stdout' || e.type === 'stderr') show(e.type, e.data);
      else if (e.type === 'exit') $('status').textContent = describe(e);
    }
  } catch (e) {
    $('status').textContent = e.name === 'AbortError' ? 'stopped' : `failed: ${e.message}`;
  } finally {
    running = null;
    $('run').disabled = false;
    $('stop').disabled = true;
  }
}

const params = new URLSearchParams(location.search);
$('module').value = params.get('module') ?? '';
$('dir').value = params.get('dir') ?? '';
$('form').onsubmit = (e) => {
  e.preventDefault();
  if (!running) void run();
};
$('stop').onclick = () => running?.abort();
