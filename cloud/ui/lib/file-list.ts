/** The list (a table) and grid (cards) of a folder's entries, with selection and sorting. */
import { contentUrl, type Entry } from './api.ts';
import { h } from './dom.ts';
import { formatBytes, formatDate, formatDateTime } from './format.ts';
import { icon } from './icons.ts';
import { iconOf, kindOf } from './kinds.ts';
import { menuButton, type MenuItem } from './menu.ts';

export type SortKey = 'name' | 'size' | 'mtime';
export interface Sort {
  key: SortKey;
  asc: boolean;
}

export interface ListHooks {
  selected: Set<string>;
  sort: Sort;
  open(entry: Entry): void;
  menu(entry: Entry): (MenuItem | 'separator')[];
  onSelect(): void;
  onSort(key: SortKey): void;
  onKey(entry: Entry, e: KeyboardEvent): void;
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

export function sortEntries(entries: Entry[], sort: Sort): Entry[] {
  const dir = sort.asc ? 1 : -1;
  return [...entries].sort((a, b) => {
    if (a.dir !== b.dir) return a.dir ? -1 : 1;
    const by =
      sort.key === 'name'
        ? collator.compare(a.name, b.name)
        : sort.key === 'size'
          ? a.size - b.size
          : a.mtime - b.mtime;
    return (by || collator.compare(a.name, b.name)) * dir;
  });
}

function checkbox(entry: Entry, hooks: ListHooks): HTMLInputElement {
  const box = h('input', {
    type: 'checkbox',
    class: 'select',
    'aria-label': `Select ${entry.name}`,
    checked: hooks.selected.has(entry.path),
  });
  box.addEventListener('change', () => {
    if (box.checked) hooks.selected.add(entry.path);
    else hooks.selected.delete(entry.path);
    box.closest('.item')?.classList.toggle('selected', box.checked);
    hooks.onSelect();
  });
  return box;
}

function nameButton(entry: Entry, hooks: ListHooks, content: (Node | string)[]): HTMLButtonElement {
  const b = h(
    'button',
    { type: 'button', class: 'name-btn', title: entry.name, 'data-name': entry.name },
    content,
  );
  b.addEventListener('click', () => hooks.open(entry));
  b.addEventListener('keydown', (e) => hooks.onKey(entry, e));
  return b;
}

const sizeText = (e: Entry): string => (e.dir ? '—' : formatBytes(e.size));

export function listView(entries: Entry[], hooks: ListHooks): HTMLTableElement {
  const all = h('input', { type: 'checkbox', class: 'select', 'aria-label': 'Select all' });
  all.checked = entries.length > 0 && entries.every((e) => hooks.selected.has(e.path));
  all.indeterminate = !all.checked && entries.some((e) => hooks.selected.has(e.path));
  all.addEventListener('change', () => {
    for (const e of entries) {
      if (all.checked) hooks.selected.add(e.path);
      else hooks.selected.delete(e.path);
    }
    hooks.onSelect();
  });
  const header = (key: SortKey, label: string, cls: string): HTMLTableCellElement => {
    const active = hooks.sort.key === key;
    return h(
      'th',
      {
        scope: 'col',
        class: cls,
        'aria-sort': active ? (hooks.sort.asc ? 'ascending' : 'descending') : null,
      },
      h(
        'button',
        { type: 'button', class: 'sort-btn', onclick: () => hooks.onSort(key) },
        label,
        active
          ? h('span', { class: 'sort-mark', 'aria-hidden': 'true' }, hooks.sort.asc ? '↑' : '↓')
          : null,
      ),
    );
  };
  return h(
    'table',
    { class: 'files-table' },
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        h('th', { scope: 'col', class: 'col-check' }, all),
        header('name', 'Name', 'col-name'),
        header('size', 'Size', 'col-size num'),
        header('mtime', 'Modified', 'col-date'),
        h('th', { scope: 'col', class: 'col-actions' }, h('span', { class: 'sr-only' }, 'Actions')),
      ),
    ),
    h(
      'tbody',
      null,
      entries.map((e) => {
        const kind = kindOf(e);
        return h(
          'tr',
          { class: `item${hooks.selected.has(e.path) ? ' selected' : ''}`, 'data-path': e.path },
          h('td', { class: 'col-check' }, checkbox(e, hooks)),
          h(
            'td',
            { class: 'col-name' },
            nameButton(e, hooks, [
              icon(iconOf(kind), `icon kind-${kind}`),
              h('span', { class: 'name-text' }, e.name),
              h(
                'span',
                { class: 'name-sub' },
                e.dir ? 'Folder' : `${formatBytes(e.size)} · ${formatDate(e.mtime)}`,
              ),
            ]),
          ),
          h('td', { class: 'col-size num' }, sizeText(e)),
          h('td', { class: 'col-date', title: formatDateTime(e.mtime) }, formatDate(e.mtime)),
          h(
            'td',
            { class: 'col-actions' },
            menuButton(`Actions for ${e.name}`, () => hooks.menu(e)),
          ),
        );
      }),
    ),
  );
}

/** Images get a thumbnail: the file itself, loaded lazily, if it is small enough to be worth it. */
const THUMB_MAX_BYTES = 8 * 1024 * 1024;

export function gridView(entries: Entry[], hooks: ListHooks): HTMLUListElement {
  return h(
    'ul',
    { class: 'files-grid' },
    entries.map((e) => {
      const kind = kindOf(e);
      const thumb =
        kind === 'image' && e.size <= THUMB_MAX_BYTES
          ? h('img', { src: contentUrl(e.path), alt: '', loading: 'lazy', decoding: 'async' })
          : icon(iconOf(kind), `icon kind-${kind}`);
      return h(
        'li',
        { class: `item card${hooks.selected.has(e.path) ? ' selected' : ''}`, 'data-path': e.path },
        nameButton(e, hooks, [
          h('span', { class: 'thumb' }, thumb),
          h('span', { class: 'name-text' }, e.name),
          h('span', { class: 'name-sub' }, e.dir ? 'Folder' : formatBytes(e.size)),
        ]),
        checkbox(e, hooks),
        menuButton(`Actions for ${e.name}`, () => hooks.menu(e), 'icon-btn card-menu'),
      );
    }),
  );
}
