/** Shared links: every live link of this wallet, with revoke. */
import { api } from './api.ts';
import type { AppContext } from './context.ts';
import { errorText } from './dialogs.ts';
import { fill, h } from './dom.ts';
import { formatDateTime } from './format.ts';
import { icon } from './icons.ts';
import { routeOf } from './files-view.ts';
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
    fill(
      body,
      h('div', { class: 'empty' }, icon('link', 'icon huge'), h('h2', null, 'No shared links')),
    );
    return;
  }
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
          h('th', { scope: 'col' }, 'Item'),
          h('th', { scope: 'col' }, 'Access'),
          h('th', { scope: 'col', class: 'hide-narrow' }, 'Expires'),
          h('th', { scope: 'col', class: 'hide-narrow' }, 'Created'),
          h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')),
        ),
      ),
      h(
        'tbody',
        null,
        shares.map((s) =>
          h(
            'tr',
            null,
            h(
              'td',
              null,
              s.path
                ? h(
                    'a',
                    {
                      href:
                        '#/' +
                        routeOf(s.dir ? s.path : s.path.slice(0, s.path.lastIndexOf('/')) || '/'),
                    },
                    s.path,
                  )
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
            h(
              'td',
              { class: 'actions' },
              h(
                'button',
                {
                  type: 'button',
                  class: 'btn small danger',
                  'aria-label': `Revoke the link to ${s.path ?? 'a deleted item'}`,
                  onclick: async () => {
                    try {
                      await api('DELETE', `/api/shares/${s.id}`);
                      app.toast('Link revoked');
                      app.reload();
                    } catch (e) {
                      app.toast(errorText(e), { error: true });
                    }
                  },
                },
                'Revoke',
              ),
            ),
          ),
        ),
      ),
    ),
  );
}
