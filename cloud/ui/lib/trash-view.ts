/** The Trash: deleted items with where they came from, restore, delete for good, empty. */
import { api } from './api.ts';
import type { AppContext } from './context.ts';
import { confirmDialog } from './dialogs.ts';
import { fill, h } from './dom.ts';
import { formatBytes, formatDateTime } from './format.ts';
import { icon } from './icons.ts';
import { iconOf, kindOf } from './kinds.ts';
import { actionButton, dataTable, emptyState } from './parts.ts';

interface TrashItem {
  id: number;
  path: string;
  deletedAt: number;
  bytes: number;
  dir: boolean;
}

export async function renderTrash(main: HTMLElement, app: AppContext): Promise<void> {
  const body = h('div', { class: 'panel-body' }, h('p', { class: 'muted' }, 'Loading…'));
  const note = h('p', { class: 'hint' });
  const { items, retentionMs } = await api<{ items: TrashItem[]; retentionMs: number }>(
    'GET',
    '/api/trash',
  );
  const empty = actionButton(
    app,
    'Empty trash',
    async () => {
      const message = `${items.length} items will be removed for good. This cannot be undone.`;
      if (
        !(await confirmDialog({
          title: 'Empty the trash?',
          message,
          confirm: 'Empty trash',
          danger: true,
        }))
      )
        return;
      await api('POST', '/api/trash/empty');
      app.toast('The trash is empty');
      app.refreshQuota();
      app.reload();
    },
    { danger: true, icon: 'trash', size: 'normal' },
  );
  empty.disabled = items.length === 0;
  fill(
    main,
    h(
      'section',
      { class: 'page', 'aria-labelledby': 'trash-title' },
      h(
        'div',
        { class: 'toolbar' },
        h('h1', { id: 'trash-title' }, 'Trash'),
        h('div', { class: 'toolbar-actions' }, empty),
      ),
      note,
      body,
    ),
  );
  const days = Math.round(retentionMs / 86_400_000);
  note.textContent = `Deleted items are kept for ${days} days, then removed for good. They count towards your storage until then.`;
  if (items.length === 0) {
    fill(body, emptyState('trash', 'The trash is empty'));
    return;
  }
  const rows = items.map((item) => {
    const name = item.path.split('/').pop() ?? item.path;
    const from = item.path.slice(0, item.path.length - name.length - 1) || '/';
    const restore = actionButton(
      app,
      'Restore',
      async () => {
        const { path } = await api<{ path: string }>('POST', `/api/trash/${item.id}/restore`);
        app.toast(`Restored to ${path}`);
        app.reload();
      },
      { aria: `Restore ${item.path}` },
    );
    const purge = actionButton(
      app,
      'Delete forever',
      async () => {
        const message = `“${name}” will be removed for good.`;
        if (
          !(await confirmDialog({
            title: 'Delete for good?',
            message,
            confirm: 'Delete forever',
            danger: true,
          }))
        )
          return;
        await api('DELETE', `/api/trash/${item.id}`);
        app.refreshQuota();
        app.reload();
      },
      { aria: `Delete ${item.path} forever`, danger: true },
    );
    return h(
      'tr',
      null,
      h(
        'td',
        null,
        h(
          'span',
          { class: 'trash-name' },
          icon(iconOf(kindOf({ name, dir: item.dir }))),
          h(
            'span',
            null,
            h('strong', null, name),
            h('span', { class: 'name-sub' }, `from ${from}`),
          ),
        ),
      ),
      h('td', { class: 'hide-narrow' }, formatDateTime(item.deletedAt)),
      h('td', { class: 'num hide-narrow' }, formatBytes(item.bytes)),
      h('td', { class: 'actions' }, restore, purge),
    );
  });
  const columns = [
    'Name',
    { label: 'Deleted', class: 'hide-narrow' },
    { label: 'Size', class: 'num hide-narrow' },
    { label: 'Actions', hidden: true },
  ];
  fill(body, dataTable(columns, rows));
}
