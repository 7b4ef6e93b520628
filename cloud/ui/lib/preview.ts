/**
 * Previews. Nothing a user stored runs as the node: images (SVG included) through <img>, audio and
 * video through the media elements (seeking uses Range requests), PDF in a frame of the server's own
 * response (its CSP sandbox keeps it from scripting the node; the browser's viewer still works),
 * HTML and XML in a sandboxed frame with no script, text read as text.
 */
import { contentUrl, type Entry } from './api.ts';
import { openDialog } from './dialogs.ts';
import { download, fill, h } from './dom.ts';
import { formatBytes, formatDateTime, extension } from './format.ts';
import { icon } from './icons.ts';
import { kindOf } from './kinds.ts';

const TEXT_BYTES = 512 * 1024;

async function textView(entry: Entry): Promise<HTMLElement> {
  const res = await fetch(contentUrl(entry.path), {
    headers: { range: `bytes=0-${TEXT_BYTES - 1}` },
    credentials: 'same-origin',
  });
  if (!res.ok) throw new Error(`the node answered ${res.status}`);
  const text = new TextDecoder('utf-8', { fatal: false }).decode(await res.arrayBuffer());
  const cut =
    entry.size > TEXT_BYTES
      ? h(
          'p',
          { class: 'muted' },
          `Showing the first ${formatBytes(TEXT_BYTES)} of ${formatBytes(entry.size)}.`,
        )
      : null;
  return h(
    'div',
    { class: 'preview-text' },
    cut,
    h('pre', { tabindex: 0, 'aria-label': `Contents of ${entry.name}` }, text),
  );
}

export function previewElement(entry: Entry): HTMLElement | Promise<HTMLElement> {
  const src = contentUrl(entry.path);
  switch (kindOf(entry)) {
    case 'image':
      return h('img', { src, alt: entry.name, class: 'preview-image' });
    case 'video':
      return h('video', { src, controls: true, preload: 'metadata', class: 'preview-media' });
    case 'audio':
      return h(
        'div',
        { class: 'preview-audio' },
        icon('audio', 'icon huge'),
        h('audio', { src, controls: true, preload: 'metadata' }),
      );
    case 'pdf':
      return h('iframe', { src, title: `PDF ${entry.name}`, class: 'preview-frame' });
    case 'markup':
      if (extension(entry.name) === 'svg')
        return h('img', { src, alt: entry.name, class: 'preview-image checker' });
      return h('iframe', {
        src: contentUrl(entry.path, { preview: true }),
        sandbox: '',
        referrerpolicy: 'no-referrer',
        title: `Page ${entry.name}`,
        class: 'preview-frame light',
      });
    case 'text':
    case 'code':
      return textView(entry);
    default:
      return h(
        'div',
        { class: 'preview-none' },
        icon('file', 'icon huge'),
        h('p', null, 'There is no preview for this kind of file.'),
      );
  }
}

export function openPreview(entry: Entry, siblings: Entry[]): void {
  const list = siblings.some((s) => s.path === entry.path) ? siblings : [entry];
  let index = list.findIndex((s) => s.path === entry.path);
  const stage = h('div', { class: 'preview-stage', 'aria-live': 'polite' });
  const meta = h('p', { class: 'preview-meta' });
  const prev = h(
    'button',
    { type: 'button', class: 'btn', 'aria-label': 'Previous file', onclick: () => show(index - 1) },
    icon('left'),
  );
  const next = h(
    'button',
    { type: 'button', class: 'btn', 'aria-label': 'Next file', onclick: () => show(index + 1) },
    icon('chevron'),
  );
  const save = h(
    'button',
    {
      type: 'button',
      class: 'btn',
      onclick: () => download(contentUrl(list[index].path, { download: true }), list[index].name),
    },
    icon('download'),
    'Download',
  );
  const d = openDialog(
    entry.name,
    [
      h(
        'div',
        { class: 'preview-bar' },
        meta,
        h('div', { class: 'preview-nav' }, prev, next, save),
      ),
      stage,
    ],
    { wide: true, className: 'preview' },
  );
  const title = d.dialog.querySelector('h2')!;

  let shown = 0;
  const show = (i: number): void => {
    if (i < 0 || i >= list.length) return;
    index = i;
    const e = list[i];
    const ticket = ++shown;
    title.textContent = e.name;
    meta.textContent = `${formatBytes(e.size)} · ${formatDateTime(e.mtime)}`;
    prev.disabled = i === 0;
    next.disabled = i === list.length - 1;
    fill(stage, h('p', { class: 'muted' }, 'Loading…'));
    Promise.resolve(previewElement(e))
      .then((el) => ticket === shown && fill(stage, el))
      .catch(
        (err) =>
          ticket === shown &&
          fill(
            stage,
            h(
              'p',
              { class: 'form-error' },
              `The preview failed: ${err instanceof Error ? err.message : err}`,
            ),
          ),
      );
  };
  d.dialog.addEventListener('keydown', (e) => {
    const t = e.target as HTMLElement;
    if (t.closest('video, audio, pre, input')) return;
    if (e.key === 'ArrowLeft') show(index - 1);
    else if (e.key === 'ArrowRight') show(index + 1);
  });
  show(index);
}
