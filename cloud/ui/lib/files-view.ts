/**
 * The Files view: breadcrumbs, the folder's entries as a list or a grid, upload by button or by
 * dropping files and folders anywhere on it, new folder, and actions on one or many entries.
 */
import { ApiError, files, joinPath, type Entry, type Folder } from './api.ts';
import type { AppContext } from './context.ts';
import { errorText } from './dialogs.ts';
import { fill, h } from './dom.ts';
import {
  confirmReplace,
  menuFor,
  moveOrCopy,
  newFolder,
  open,
  remove,
  rename,
} from './file-actions.ts';
import { gridView, listView, sortEntries, type Sort, type SortKey } from './file-list.ts';
import { icon } from './icons.ts';
import { emptyState } from './parts.ts';
import { droppedFiles } from './uploads.ts';

type Mode = 'list' | 'grid';
const MODE_KEY = 'pc2.view';

const state = {
  mode: (localStorage.getItem(MODE_KEY) === 'grid' ? 'grid' : 'list') as Mode,
  sort: { key: 'name', asc: true } as Sort,
  selected: new Set<string>(),
  folder: '',
};

export const routeOf = (path: string): string =>
  'files' + path.split('/').map(encodeURIComponent).join('/');

function breadcrumbs(path: string): HTMLElement {
  const names = path.split('/').filter(Boolean);
  return h(
    'nav',
    { class: 'crumbs-nav', 'aria-label': 'Folder path' },
    h(
      'ol',
      { class: 'crumbs' },
      h(
        'li',
        null,
        names.length === 0
          ? h('span', { 'aria-current': 'page' }, 'Files')
          : h('a', { href: '#/files/' }, 'Files'),
      ),
      names.map((n, i) =>
        h(
          'li',
          null,
          i === names.length - 1
            ? h('span', { 'aria-current': 'page' }, n)
            : h('a', { href: '#/' + routeOf('/' + names.slice(0, i + 1).join('/')) }, n),
        ),
      ),
    ),
  );
}

/** Queues files for upload into `folder`, asking first if any would replace an existing file. */
export async function uploadInto(
  folder: string,
  picked: { file: File; rel: string }[],
  listing: Entry[] | undefined,
  app: AppContext,
): Promise<void> {
  if (picked.length === 0) return;
  const existing = new Set((listing ?? []).filter((e) => !e.dir).map((e) => e.name));
  const clashes = picked
    .filter((p) => !p.rel.includes('/') && existing.has(p.file.name))
    .map((p) => p.file.name);
  if (!(await confirmReplace(clashes))) return;
  app.uploads.add(picked.map((p) => ({ file: p.file, path: joinPath(folder, p.rel) })));
}

/** The view on screen: rendering the same folder again only refreshes its listing (no flicker, drops kept). */
const mounted = new WeakMap<
  HTMLElement,
  { folder: string; zone: HTMLElement; refresh(): Promise<void> }
>();

export async function renderFiles(main: HTMLElement, app: AppContext, path: string): Promise<void> {
  const folder = '/' + path.split('/').filter(Boolean).join('/');
  const current = mounted.get(main);
  if (current && current.folder === folder && main.contains(current.zone)) return current.refresh();
  if (state.folder !== folder) state.selected.clear();
  state.folder = folder;
  let listing: Folder | undefined;

  const input = h('input', {
    type: 'file',
    multiple: true,
    hidden: true,
    'aria-hidden': 'true',
    tabindex: -1,
  });
  input.addEventListener('change', () => {
    const picked = [...(input.files ?? [])].map((file) => ({ file, rel: file.name }));
    input.value = '';
    void uploadInto(folder, picked, listing?.entries, app);
  });
  const viewButton = (mode: Mode, label: string): HTMLButtonElement => {
    const b = h(
      'button',
      {
        type: 'button',
        class: 'seg-btn',
        'aria-pressed': String(state.mode === mode),
        'aria-label': label,
        title: label,
      },
      icon(mode),
    );
    b.addEventListener('click', () => {
      state.mode = mode;
      localStorage.setItem(MODE_KEY, mode);
      draw();
      fill(toggles, viewButton('list', 'List view'), viewButton('grid', 'Grid view'));
    });
    return b;
  };
  const toggles = h(
    'div',
    { class: 'segmented', role: 'group', 'aria-label': 'View' },
    viewButton('list', 'List view'),
    viewButton('grid', 'Grid view'),
  );
  const selection = h('div', {
    class: 'selection-bar',
    hidden: true,
    role: 'region',
    'aria-label': 'Selection',
  });
  const body = h('div', { class: 'files-body' }, h('p', { class: 'muted loading' }, 'Loading…'));
  const overlay = h(
    'div',
    { class: 'drop-overlay', hidden: true },
    icon('upload', 'icon huge'),
    h('p', null, `Drop to upload to ${folder === '/' ? 'Files' : folder.split('/').pop()}`),
  );
  const zone = h(
    'section',
    { class: 'files-view', 'aria-label': 'Files' },
    h(
      'div',
      { class: 'toolbar' },
      breadcrumbs(folder),
      h(
        'div',
        { class: 'toolbar-actions' },
        h(
          'button',
          { type: 'button', class: 'btn', onclick: () => newFolder(folder, app) },
          icon('folderPlus'),
          h('span', { class: 'label' }, 'New folder'),
        ),
        h(
          'button',
          { type: 'button', class: 'btn primary', onclick: () => input.click() },
          icon('upload'),
          h('span', { class: 'label' }, 'Upload'),
        ),
        input,
        toggles,
      ),
    ),
    selection,
    body,
    overlay,
  );
  fill(main, zone);

  const selectedEntries = (): Entry[] =>
    (listing?.entries ?? []).filter((e) => state.selected.has(e.path));
  const drawSelection = (): void => {
    const chosen = selectedEntries();
    selection.hidden = chosen.length === 0;
    fill(
      selection,
      h('span', { class: 'selection-count' }, `${chosen.length} selected`),
      h(
        'button',
        { type: 'button', class: 'btn small', onclick: () => moveOrCopy(chosen, app) },
        icon('move'),
        'Move',
      ),
      h(
        'button',
        { type: 'button', class: 'btn small', onclick: () => moveOrCopy(chosen, app, true) },
        icon('copy'),
        'Copy',
      ),
      h(
        'button',
        { type: 'button', class: 'btn small danger', onclick: () => remove(chosen, app) },
        icon('trash'),
        'Delete',
      ),
      h(
        'button',
        {
          type: 'button',
          class: 'btn small ghost',
          onclick: () => {
            state.selected.clear();
            draw();
          },
        },
        'Clear',
      ),
    );
  };
  const hooks = {
    selected: state.selected,
    sort: state.sort,
    open: (e: Entry) => open(e, sorted(), app),
    menu: (e: Entry) => menuFor(e, sorted(), app),
    onSelect: () => {
      drawSelection();
      syncChecks();
    },
    onSort: (key: SortKey) => {
      state.sort.asc = state.sort.key === key ? !state.sort.asc : true;
      state.sort.key = key;
      draw();
    },
    onKey: (e: Entry, ev: KeyboardEvent) => {
      if (ev.key === 'Delete') void remove([e], app);
      else if (ev.key === 'F2') void rename(e, app);
      else return;
      ev.preventDefault();
    },
  };
  const syncChecks = (): void => {
    for (const item of body.querySelectorAll<HTMLElement>('.item')) {
      const on = state.selected.has(item.dataset.path ?? '');
      item.classList.toggle('selected', on);
      const box = item.querySelector<HTMLInputElement>('.select');
      if (box) box.checked = on;
    }
    const all = body.querySelector<HTMLInputElement>('thead .select');
    const entries = listing?.entries ?? [];
    if (all) {
      all.checked = entries.length > 0 && entries.every((e) => state.selected.has(e.path));
      all.indeterminate = !all.checked && entries.some((e) => state.selected.has(e.path));
    }
  };
  const sorted = (): Entry[] => sortEntries(listing?.entries ?? [], state.sort);
  const draw = (): void => {
    if (!listing) return;
    // Redrawing keeps the keyboard focus on the same entry.
    const active = document.activeElement as HTMLElement | null;
    const focused = active?.closest('.item')?.getAttribute('data-path');
    const part = active?.classList.contains('select') ? '.select' : '.name-btn';
    const entries = sorted();
    if (entries.length === 0) {
      fill(
        body,
        emptyState(
          'folder',
          'This folder is empty',
          h('p', null, 'Drop files or folders here, or use Upload.'),
        ),
      );
    } else fill(body, state.mode === 'list' ? listView(entries, hooks) : gridView(entries, hooks));
    if (focused)
      body.querySelector<HTMLElement>(`.item[data-path="${CSS.escape(focused)}"] ${part}`)?.focus();
    drawSelection();
  };

  // Drops: the overlay shows while files are dragged over the view.
  let depth = 0;
  const dragsFiles = (e: DragEvent): boolean =>
    !!e.dataTransfer && [...e.dataTransfer.types].includes('Files');
  zone.addEventListener('dragenter', (e) => {
    if (!dragsFiles(e)) return;
    depth++;
    overlay.hidden = false;
  });
  zone.addEventListener('dragleave', () => {
    if (--depth <= 0) {
      depth = 0;
      overlay.hidden = true;
    }
  });
  zone.addEventListener('dragover', (e) => {
    if (!dragsFiles(e)) return;
    e.preventDefault();
    e.dataTransfer!.dropEffect = 'copy';
  });
  zone.addEventListener('drop', (e) => {
    if (!e.dataTransfer) return;
    e.preventDefault();
    depth = 0;
    overlay.hidden = true;
    void droppedFiles(e.dataTransfer).then((picked) =>
      uploadInto(folder, picked, listing?.entries, app),
    );
  });

  const refresh = async (): Promise<void> => {
    try {
      listing = await files.list(folder);
      if (!listing.dir) {
        app.go(routeOf(folder.slice(0, folder.lastIndexOf('/')) || '/'));
        return;
      }
      for (const p of [...state.selected])
        if (!listing.entries.some((e) => e.path === p)) state.selected.delete(p);
      draw();
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) throw e;
      listing = undefined;
      const missing = e instanceof ApiError && e.status === 404;
      const title = missing ? 'This folder does not exist' : 'The folder could not be read';
      const why = missing ? 'It may have been moved or deleted.' : errorText(e);
      fill(
        body,
        emptyState(
          'alert',
          title,
          h('p', null, why),
          h('a', { href: '#/files/', class: 'btn' }, 'Back to Files'),
        ),
      );
    }
  };
  mounted.set(main, { folder, zone, refresh });
  await refresh();
}
