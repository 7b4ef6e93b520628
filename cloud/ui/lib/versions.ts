/** A file's versions: the current content and the kept ones, each downloadable and restorable. */
import { api, contentUrl, type Entry } from './api.ts';
import type { AppContext } from './context.ts';
import { errorText, openDialog } from './dialogs.ts';
import { download, fill, h } from './dom.ts';
import { formatBytes, formatDateTime } from './format.ts';
import { icon } from './icons.ts';

interface Version {
  id: number;
  size: number;
  mtime: number;
  etag: string;
}

export function openVersions(entry: Entry, app: AppContext): void {
  const body = h('div', null, h('p', { class: 'muted' }, 'Loading…'));
  const error = h('p', { class: 'form-error', role: 'alert' });
  openDialog(
    `Versions of “${entry.name}”`,
    [
      h(
        'p',
        { class: 'hint' },
        'An overwrite keeps the previous content here. Older versions are thinned out over time.',
      ),
      body,
      error,
    ],
    { wide: true },
  );

  const load = async (): Promise<void> => {
    const { current, versions } = await api<{ current: Omit<Version, 'id'>; versions: Version[] }>(
      'GET',
      `/api/versions?path=${encodeURIComponent(entry.path)}`,
    );
    const row = (label: string, v: Omit<Version, 'id'>, id?: number): HTMLTableRowElement =>
      h(
        'tr',
        null,
        h('td', null, label),
        h('td', null, formatDateTime(v.mtime)),
        h('td', { class: 'num' }, formatBytes(v.size)),
        h(
          'td',
          { class: 'actions' },
          h(
            'button',
            {
              type: 'button',
              class: 'btn small',
              onclick: () =>
                download(contentUrl(entry.path, { download: true, version: id }), entry.name),
            },
            icon('download'),
            'Download',
          ),
          id === undefined
            ? null
            : h(
                'button',
                {
                  type: 'button',
                  class: 'btn small',
                  onclick: async () => {
                    try {
                      await api('POST', '/api/versions/restore', { path: entry.path, id });
                      app.toast(`Restored the version of ${formatDateTime(v.mtime)}`);
                      app.reload();
                      await load();
                    } catch (e) {
                      error.textContent = errorText(e);
                    }
                  },
                },
                icon('restore'),
                'Restore',
              ),
        ),
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
            h('th', { scope: 'col' }, 'Version'),
            h('th', { scope: 'col' }, 'Saved'),
            h('th', { scope: 'col', class: 'num' }, 'Size'),
            h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')),
          ),
        ),
        h(
          'tbody',
          null,
          row('Current', current),
          versions.map((v, i) => row(`Version ${versions.length - i}`, v, v.id)),
        ),
      ),
      versions.length === 0 ? h('p', { class: 'muted' }, 'No earlier versions yet.') : null,
    );
  };
  load().catch((e) => fill(body, h('p', { class: 'form-error' }, errorText(e))));
}
