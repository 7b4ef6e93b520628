/**
 * The page a visitor's browser gets for a share link: asks for the password if the link has one,
 * then offers the file (download, preview) or the folder's files, or, for an upload-only link, a
 * place to drop files. Everything comes from `/s/<token>?meta=1`; content from `/s/<token>[/path]`.
 */
import { answer, ApiError } from './lib/api.ts';
import { errorText } from './lib/dialogs.ts';
import { field, fill, h } from './lib/dom.ts';
import { formatBytes, formatDateTime } from './lib/format.ts';
import { icon } from './lib/icons.ts';
import { iconOf, kindOf } from './lib/kinds.ts';
import { dataTable, progressBar } from './lib/parts.ts';
import { droppedFiles } from './lib/uploads.ts';

interface Meta {
  name: string;
  dir: boolean;
  size?: number;
  mtime?: number;
  mode: 'read' | 'upload';
  expiresAt?: number | null;
  entries?: { name: string; dir: boolean; size: number; mtime: number }[];
}

const root = document.getElementById('app')!;
let rootName = 'Shared folder';
const token = location.pathname.split('/')[2] ?? '';
const base = `/s/${token}`;
const enc = (names: string[]): string => names.map(encodeURIComponent).join('/');
const sub = (): string[] =>
  location.hash
    .replace(/^#\/?/, '')
    .split('/')
    .filter(Boolean)
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    });

function frame(...content: (Node | null)[]): void {
  fill(
    root,
    h(
      'main',
      { class: 'share-page' },
      h(
        'header',
        { class: 'share-head' },
        h('span', { class: 'brand' }, icon('cloud', 'icon brand-mark'), h('span', null, 'PC2')),
        h('span', { class: 'host' }, location.host),
      ),
      h('div', { class: 'share-card' }, content),
    ),
  );
}

async function meta(path: string[]): Promise<Meta> {
  const url = `${base}${path.length ? '/' + enc(path) : ''}?meta=1`;
  return answer<Meta>(await fetch(url, { credentials: 'same-origin', cache: 'no-store' }));
}

function askPassword(wrong?: string): void {
  const input = h('input', {
    type: 'password',
    name: 'password',
    autocomplete: 'current-password',
    required: true,
  });
  const error = h('p', { class: 'form-error', role: 'alert' }, wrong ?? '');
  const button = h('button', { type: 'submit', class: 'btn primary' }, 'Open');
  const form = h(
    'form',
    { class: 'dialog-form', novalidate: true },
    field('Password', input),
    error,
    button,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    button.disabled = true;
    try {
      await answer(
        await fetch(base, {
          method: 'POST',
          credentials: 'same-origin',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ password: input.value }),
        }),
      );
      await show();
    } catch (err) {
      error.textContent =
        err instanceof ApiError && err.status === 401
          ? 'That password is not right.'
          : errorText(err);
      button.disabled = false;
      input.select();
    }
  });
  frame(
    icon('lock', 'icon huge'),
    h('h1', null, 'This link is protected'),
    h('p', { class: 'lead' }, 'Enter the password you were given with the link.'),
    form,
  );
  input.focus();
}

function fileCard(m: Meta, url: string): void {
  const kind = kindOf(m);
  const preview =
    kind === 'image'
      ? h('img', { src: url, alt: m.name, class: 'share-preview' })
      : kind === 'video'
        ? h('video', { src: url, controls: true, preload: 'metadata', class: 'share-preview' })
        : kind === 'audio'
          ? h('audio', { src: url, controls: true, preload: 'metadata' })
          : icon(iconOf(kind), 'icon huge');
  frame(
    preview,
    h('h1', { class: 'wrap' }, m.name),
    h(
      'p',
      { class: 'muted' },
      [
        formatBytes(m.size ?? 0),
        m.mtime ? formatDateTime(m.mtime) : null,
        m.expiresAt ? `link expires ${formatDateTime(m.expiresAt)}` : null,
      ]
        .filter(Boolean)
        .join(' · '),
    ),
    h(
      'div',
      { class: 'share-actions' },
      h(
        'a',
        { class: 'btn primary big', href: `${url}?download=1`, download: m.name },
        icon('download'),
        'Download',
      ),
      // Any query asks for the content itself: the bare link is this page.
      kind === 'pdf' || kind === 'text'
        ? h(
            'a',
            { class: 'btn big', href: `${url}?view=1`, target: '_blank', rel: 'noopener' },
            icon('eye'),
            'Open',
          )
        : null,
    ),
  );
}

function folderCard(m: Meta, path: string[]): void {
  const entries = [...(m.entries ?? [])].sort((a, b) =>
    a.dir === b.dir ? a.name.localeCompare(b.name) : a.dir ? -1 : 1,
  );
  if (path.length === 0) rootName = m.name;
  const crumb = (n: string, i: number): HTMLLIElement =>
    h(
      'li',
      null,
      i === path.length - 1
        ? h('span', { 'aria-current': 'page' }, n)
        : h('a', { href: `#/${enc(path.slice(0, i + 1))}` }, n),
    );
  const root = path.length
    ? h('a', { href: '#' }, rootName)
    : h('span', { 'aria-current': 'page' }, m.name);
  const crumbs = h('ol', { class: 'crumbs' }, h('li', null, root), path.map(crumb));
  const rows = entries.map((e) => {
    const url = `${base}/${enc([...path, e.name])}`;
    const name = e.dir
      ? h('a', { href: `#/${enc([...path, e.name])}`, class: 'entry-link' }, icon('folder'), e.name)
      : h('span', { class: 'entry-link' }, icon(iconOf(kindOf(e))), e.name);
    const save = e.dir
      ? null
      : h(
          'a',
          {
            class: 'btn small',
            href: `${url}?download=1`,
            download: e.name,
            'aria-label': `Download ${e.name}`,
          },
          icon('download'),
          h('span', { class: 'label' }, 'Download'),
        );
    return h(
      'tr',
      null,
      h('td', null, name),
      h('td', { class: 'num hide-narrow' }, e.dir ? '—' : formatBytes(e.size)),
      h('td', { class: 'actions' }, save),
    );
  });
  const columns = [
    'Name',
    { label: 'Size', class: 'num hide-narrow' },
    { label: 'Download', hidden: true },
  ];
  frame(
    h('nav', { 'aria-label': 'Folder path' }, crumbs),
    entries.length === 0
      ? h('p', { class: 'muted' }, 'This folder is empty.')
      : dataTable(columns, rows),
  );
}

function uploadCard(m: Meta): void {
  const list = h('ul', { class: 'uploads-list' });
  const input = h('input', { type: 'file', multiple: true, hidden: true });
  const send = (file: File): void => {
    const progress = progressBar(`Uploading ${file.name}`);
    const note = h('span', { class: 'upload-note' }, 'Starting');
    list.append(
      h(
        'li',
        { class: 'upload' },
        h('div', { class: 'upload-line' }, h('span', { class: 'upload-name' }, file.name), note),
        progress.bar,
      ),
    );
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', `${base}/${encodeURIComponent(file.name)}`);
    xhr.upload.onprogress = (e) => {
      const pct = e.total ? Math.floor((e.loaded / e.total) * 100) : 0;
      progress.set(pct);
      note.textContent = `${pct}%`;
    };
    xhr.onload = () => {
      let message = 'Uploaded';
      if (xhr.status !== 201) {
        try {
          message = JSON.parse(xhr.responseText).error.message;
        } catch {
          message = `the node answered ${xhr.status}`;
        }
        message = `Failed: ${message}`;
      } else progress.set(100);
      note.textContent = message;
    };
    xhr.onerror = () => (note.textContent = 'Failed: the connection was lost');
    xhr.send(file);
  };
  input.addEventListener('change', () => {
    for (const f of input.files ?? []) send(f);
    input.value = '';
  });
  const zone = h(
    'div',
    { class: 'share-drop' },
    icon('upload', 'icon huge'),
    h('p', null, 'Drop files here, or'),
    h(
      'button',
      { type: 'button', class: 'btn primary', onclick: () => input.click() },
      'Choose files',
    ),
    input,
  );
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    if (e.dataTransfer)
      void droppedFiles(e.dataTransfer).then((files) =>
        files.filter((f) => !f.rel.includes('/')).forEach((f) => send(f.file)),
      );
  });
  frame(
    h('h1', null, `Send files to “${m.name}”`),
    h(
      'p',
      { class: 'lead' },
      'Files you upload go to the owner of this folder. You cannot see what is in it.',
    ),
    zone,
    list,
  );
}

async function show(): Promise<void> {
  const path = sub();
  try {
    const m = await meta(path);
    document.title = `${m.name} · shared`;
    if (m.mode === 'upload') uploadCard(m);
    else if (m.dir) folderCard(m, path);
    else fileCard(m, base);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return askPassword();
    const title =
      e instanceof ApiError && e.status === 410
        ? 'This link has expired'
        : e instanceof ApiError && e.status === 404
          ? 'This link does not work'
          : e instanceof ApiError && e.status === 429
            ? 'Too many wrong passwords'
            : 'The shared item could not be opened';
    const why =
      e instanceof ApiError && e.status === 404
        ? 'It may have been revoked, or the item was deleted.'
        : errorText(e);
    frame(icon('alert', 'icon huge'), h('h1', null, title), h('p', { class: 'lead' }, why));
  }
}

window.addEventListener('hashchange', () => void show());
void show();
