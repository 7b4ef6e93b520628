/** The Trash: deleted items with where they came from, restore, delete for good, empty. */
import { api } from './api.ts';
import type { AppContext } from './context.ts';
import { confirmDialog, errorText } from './dialogs.ts';
import { fill, h } from './dom.ts';
import { formatBytes, formatDateTime } from './format.ts';
import { icon } from './icons.ts';
import { iconOf, kindOf } from './kinds.ts';

interface TrashItem {
  id: number;
  path: string;
  deletedAt: number;
  bytes: number;
  dir: boolean;
}

export async function renderTrash(main: HTMLElement, app: AppContext): Promise<void> {
  const body = h('div', { class: 'panel-body' }, h('p', { class: 'muted' }, 'Loading…'));
  const empty = h(
    'button',
    { type: 'button', class: 'btn danger', disabled: true },
    icon('trash'),
    'Empty trash',
  );
  const note = h('p', { class: 'hint' });
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

  const { items, retentionMs } = await api<{ items: TrashItem[]; retentionMs: number }>(
    'GET',
    '/api/trash',
  );
  note.textContent = `Deleted items are kept for ${Math.round(retentionMs / 86_400_000)} days, then removed for good. They count towards your storage until then.`;
  empty.disabled = items.length === 0;
  empty.onclick = async () => {
    if (
      !(await confirmDialog({
        title: 'Empty the trash?',
        message: `${items.length} items will be removed for good. This cannot be undone.`,
        confirm: 'Empty trash',
        danger: true,
      }))
    )
      return;
    try {
      await api('POST', '/api/trash/empty');
      app.toast('The trash is empty');
      app.refreshQuota();
      app.reload();
    } catch (e) {
      app.toast(errorText(e), { error: true });
    }
  };
  if (items.length === 0) {
    fill(
      body,
      h('div', { class: 'empty' }, icon('trash', 'icon huge'), h('h2', null, 'The trash is empty')),
    );
    return;
  }
  const act = (
    label: string,
    item: TrashItem,
    run: () => Promise<void>,
    cls = 'btn small',
  ): HTMLButtonElement =>
    h(
      'button',
      {
        type: 'button',
        class: cls,
        'aria-label': `${label} ${item.path}`,
        onclick: async () => {
          try {
            await run();
          } catch (e) {
            app.toast(errorText(e), { error: true });
          }
        },
      },
      label,
    );
  fill(
    body,
    h(
      'table',
      { class: 'table' },
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          h('th', { scope: 'col' }, 'Name'),
          h('th', { scope: 'col', class: 'hide-narrow' }, 'Deleted'),
          h('th', { scope: 'col', class: 'num hide-narrow' }, 'Size'),
          h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')),
        ),
      ),
      h(
        'tbody',
        null,
        items.map((item) => {
          const name = item.path.split('/').pop() ?? item.path;
          const from = item.path.slice(0, item.path.length - name.length - 1) || '/';
          return h(
            'tr',
            null,
            h(
              'td',
              null,
              h(
                'span',
                { class: 'trash-name' },
                icon(iconOf(kindOf({ name, dir: item.dir })), 'icon'),
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
            h(
              'td',
              { class: 'actions' },
              act('Restore', item, async () => {
                const { path } = await api<{ path: string }>(
                  'POST',
                  `/api/trash/${item.id}/restore`,
                );
                app.toast(`Restored to ${path}`);
                app.reload();
              }),
              act(
                'Delete forever',
                item,
                async () => {
                  if (
                    !(await confirmDialog({
                      title: 'Delete for good?',
                      message: `“${name}” will be removed for good.`,
                      confirm: 'Delete forever',
                      danger: true,
                    }))
                  )
                    return;
                  await api('DELETE', `/api/trash/${item.id}`);
                  app.refreshQuota();
                  app.reload();
                },
                'btn small danger',
              ),
            ),
          );
        }),
      ),
    ),
  );
}
