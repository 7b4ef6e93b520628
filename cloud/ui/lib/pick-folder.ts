/** A dialog to choose a folder (for Move and Copy): browse from the root, confirm the one shown. */
import { files, joinPath } from './api.ts';
import { buttonRow, errorText, openDialog } from './dialogs.ts';
import { fill, h } from './dom.ts';
import { icon } from './icons.ts';

export function pickFolder(o: {
  title: string;
  start: string;
  confirm: string;
  submit: (folder: string) => Promise<void>;
}): Promise<boolean> {
  let current = o.start;
  const crumbs = h('ol', { class: 'crumbs small' });
  const list = h('ul', { class: 'folder-list', 'aria-label': 'Folders' });
  const error = h('p', { class: 'form-error', role: 'alert' });
  const ok = h('button', { type: 'button', class: 'btn primary' }, o.confirm);
  const d = openDialog(o.title, [
    h('nav', { 'aria-label': 'Folder path' }, crumbs),
    list,
    error,
    buttonRow(
      h('button', { type: 'button', class: 'btn', onclick: () => d.close() }, 'Cancel'),
      ok,
    ),
  ]);
  let done = false;

  const show = async (path: string): Promise<void> => {
    error.textContent = '';
    try {
      const folder = await files.list(path);
      current = path;
      const names = path.split('/').filter(Boolean);
      fill(
        crumbs,
        h(
          'li',
          null,
          h('button', { type: 'button', class: 'link', onclick: () => void show('/') }, 'Files'),
        ),
        names.map((n, i) =>
          h(
            'li',
            null,
            i === names.length - 1
              ? h('span', { 'aria-current': 'location' }, n)
              : h(
                  'button',
                  {
                    type: 'button',
                    class: 'link',
                    onclick: () => void show('/' + names.slice(0, i + 1).join('/')),
                  },
                  n,
                ),
          ),
        ),
      );
      const dirs = folder.entries.filter((e) => e.dir);
      fill(
        list,
        dirs.length === 0
          ? h('li', { class: 'muted' }, 'No folders inside')
          : dirs.map((e) =>
              h(
                'li',
                null,
                h(
                  'button',
                  {
                    type: 'button',
                    class: 'folder-item',
                    onclick: () => void show(joinPath(path, e.name)),
                  },
                  icon('folder'),
                  e.name,
                ),
              ),
            ),
      );
      list.querySelector<HTMLButtonElement>('button')?.focus();
    } catch (e) {
      error.textContent = errorText(e);
    }
  };
  ok.addEventListener('click', async () => {
    ok.disabled = true;
    try {
      await o.submit(current);
      done = true;
      d.close();
    } catch (e) {
      error.textContent = errorText(e);
    } finally {
      ok.disabled = false;
    }
  });
  void show(o.start).catch(() => show('/'));
  return d.closed.then(() => done);
}
