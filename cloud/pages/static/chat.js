// The chat page: conversations of the signed-in wallet, replies streamed as server-sent events and
// rendered as escaped Markdown, a stop button that ends the generation on the node.
import { renderMarkdown } from './markdown.js';
import { records } from './stream.js';

const $ = (id) => document.getElementById(id);
let current = null;
let running = null;

async function api(method, path, body) {
  const res = await fetch(path, { method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });
  const json = res.headers.get('content-type')?.includes('json') ? await res.json() : null;
  if (!res.ok) throw Object.assign(new Error(json?.error?.message ?? res.statusText), { status: res.status });
  return json;
}

function notice(text) {
  $('notice').textContent = text;
  $('notice').hidden = false;
}

function addMessage(role, content, stopped) {
  const div = document.createElement('div');
  div.className = `message ${role}`;
  setContent(div, role, content, stopped);
  $('messages').append(div);
  div.scrollIntoView({ block: 'end' });
  return div;
}

function setContent(div, role, content, stopped) {
  if (role === 'user') div.textContent = content;
  else div.innerHTML = renderMarkdown(content) + (stopped ? '<div class="stopped">stopped</div>' : '');
}

async function loadList() {
  const { conversations } = await api('GET', '/api/chat/conversations');
  $('conversations').replaceChildren(...conversations.map((c) => {
    const li = document.createElement('li');
    li.textContent = c.title;
    li.title = c.title;
    li.dataset.id = c.id;
    li.className = c.id === current ? 'active' : '';
    li.onclick = () => open(c.id);
    return li;
  }));
}

async function open(id) {
  if (running) return;
  current = id;
  const conv = await api('GET', `/api/chat/conversations/${id}`);
  $('messages').replaceChildren();
  for (const m of conv.messages) addMessage(m.role, m.content, m.stopped);
  await loadList();
}

async function send(text) {
  if (!current) current = (await api('POST', '/api/chat/conversations', {})).id;
  addMessage('user', text);
  const reply = addMessage('assistant', '');
  running = new AbortController();
  $('send').disabled = true;
  $('stop').disabled = false;
  let content = '';
  try {
    const res = await fetch(`/api/chat/conversations/${current}/messages`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ content: text }), signal: running.signal,
    });
    if (!res.ok) throw new Error((await res.json()).error.message);
    for await (const event of records(res, '\n\n')) {
      if (!event.startsWith('data: ')) continue;
      const data = JSON.parse(event.slice(6));
      if (data.delta) content += data.delta;
      if (data.error) content += `\n\n*${data.error}*`;
      setContent(reply, 'assistant', content, false);
      reply.scrollIntoView({ block: 'end' });
    }
  } catch (e) {
    if (e.name === 'AbortError') setContent(reply, 'assistant', content, true);
    else setContent(reply, 'assistant', `${content}\n\n*${e.message}*`, false);
  } finally {
    running = null;
    $('send').disabled = false;
    $('stop').disabled = true;
    await loadList();
  }
}

async function main() {
  try {
    const status = await api('GET', '/api/chat/status');
    if (!status.configured) return notice(status.help);
    $('model').textContent = `${status.model} (${status.backend})`;
  } catch (e) {
    if (e.status === 401) return notice('Sign in with your wallet in the file manager first: /');
    return notice(e.message);
  }
  $('chat').hidden = false;
  $('new').onclick = () => {
    if (running) return;
    current = null;
    $('messages').replaceChildren();
    void loadList();
  };
  $('stop').onclick = () => running?.abort();
  $('composer').onsubmit = (e) => {
    e.preventDefault();
    const text = $('input').value.trim();
    if (!text || running) return;
    $('input').value = '';
    void send(text);
  };
  $('input').onkeydown = (e) => {
    if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      $('composer').requestSubmit();
    }
  };
  await loadList();
  const first = $('conversations').firstElementChild;
  if (first) await open(first.dataset.id);
}

void main();
