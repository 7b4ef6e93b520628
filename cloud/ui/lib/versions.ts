/** A file's versions: the current content and the kept ones, each downloadable and restorable. */
import { api, contentUrl, type Entry } from './api.ts';
import type { AppContext } from './context.ts';
import { errorText, openDialog } from './dialogs.ts';
import { download, fill, h } from './dom.ts';
import { formatBytes, formatDateTime } from './format.ts';
import { icon } from './icons.ts';
import { actionButton, dataTable } from './parts.ts';

interface Version {
  id: number;
  size: number;
  mtime: number;
  etag: string;
}

export function openVersions(entry: Entry, app: AppContext): void {
  const body = h('div', null, h('p', { class: 'muted' }, 'Loading…'));
  const hint =
    'An overwrite keeps the previous content here. Older versions are thinned out over time.';
  openDialog(`Versions of “${entry.name}”`, [h('p', { class: 'hint' }, hint), body], {
    wide: true,
  });

  const load = async (): Promise<void> => {
    const url = `/api/versions?path=${encodeURIComponent(entry.path)}`;
    const { current, versions } = await api<{ current: Omit<Version, 'id'>; versions: Version[] }>(
      'GET',
      url,
    );
    const row = (label: string, v: Omit<Version, 'id'>, id?: number): HTMLTableRowElement => {
      const save = h(
        'button',
        {
          type: 'button',
          class: 'btn small',
          onclick: () =>
            download(contentUrl(entry.path, { download: true, version: id }), entry.name),
        },
        icon('download'),
        'Download',
      );
      const restore =
        id === undefined
          ? null
          : actionButton(
              app,
              'Restore',
              async () => {
                await api('POST', '/api/versions/restore', { path: entry.path, id });
                app.toast(`Restored the version of ${formatDateTime(v.mtime)}`);
                app.reload();
                await load();
              },
              { icon: 'restore' },
            );
      return h(
        'tr',
        null,
        h('td', null, label),
        h('td', null, formatDateTime(v.mtime)),
        h('td', { class: 'num' }, formatBytes(v.size)),
        h('td', { class: 'actions' }, save, restore),
      );
    };
    const rows = [
      row('Current', current),
      ...versions.map((v, i) => row(`Version ${versions.length - i}`, v, v.id)),
    ];
    fill(
      body,
      dataTable(
        ['Version', 'Saved', { label: 'Size', class: 'num' }, { label: 'Actions', hidden: true }],
        rows,
      ),
      versions.length === 0 ? h('p', { class: 'muted' }, 'No earlier versions yet.') : null,
    );
  };
  load().catch((e) => fill(body, h('p', { class: 'form-error' }, errorText(e))));
}
