/** Shared links: every live link of this wallet, with revoke. */
import { api } from './api.ts';
import type { AppContext } from './context.ts';
import { fill, h } from './dom.ts';
import { routeOf } from './files-view.ts';
import { formatDateTime } from './format.ts';
import { icon } from './icons.ts';
import { actionButton, dataTable, emptyState } from './parts.ts';
import { modeLabel, type ShareInfo } from './share-dialog.ts';

export async function renderShares(main: HTMLElement, app: AppContext): Promise<void> {
  const body = h('div', { class: 'panel-body' }, h('p', { class: 'muted' }, 'Loading…'));
  fill(
    main,
    h(
      'section',
      { class: 'page', 'aria-labelledby': 'shares-title' },
      h('div', { class: 'toolbar' }, h('h1', { id: 'shares-title' }, 'Shared links')),
      h(
        'p',
        { class: 'hint' },
        'Links you created. Create one from a file’s or folder’s menu → Share. A revoked link stops working at once.',
      ),
      body,
    ),
  );
  const { shares } = await api<{ shares: ShareInfo[] }>('GET', '/api/shares');
  if (shares.length === 0) {
    fill(body, emptyState('link', 'No shared links'));
    return;
  }
  const rows = shares.map((s) => {
    // A link to the folder the item is in (the item itself for a folder).
    const folder = s.path && (s.dir ? s.path : s.path.slice(0, s.path.lastIndexOf('/')) || '/');
    const revoke = actionButton(
      app,
      'Revoke',
      async () => {
        await api('DELETE', `/api/shares/${s.id}`);
        app.toast('Link revoked');
        app.reload();
      },
      { aria: `Revoke the link to ${s.path ?? 'a deleted item'}`, danger: true },
    );
    return h(
      'tr',
      null,
      h(
        'td',
        null,
        folder
          ? h('a', { href: `#/${routeOf(folder)}` }, s.path)
          : h('span', { class: 'muted' }, 'in the trash'),
      ),
      h(
        'td',
        null,
        modeLabel(s.mode),
        s.hasPassword ? h('span', { class: 'badge' }, icon('lock'), 'password') : null,
      ),
      h('td', { class: 'hide-narrow' }, s.expiresAt ? formatDateTime(s.expiresAt) : 'Never'),
      h('td', { class: 'hide-narrow' }, formatDateTime(s.created)),
      h('td', { class: 'actions' }, revoke),
    );
  });
  const columns = [
    'Item',
    'Access',
    { label: 'Expires', class: 'hide-narrow' },
    { label: 'Created', class: 'hide-narrow' },
    { label: 'Actions', hidden: true },
  ];
  fill(body, dataTable(columns, rows));
}
