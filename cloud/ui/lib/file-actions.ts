/** What can be done to a file or folder: the menu of a row or card, and each action's dialog. */
import { api, contentUrl, files, joinPath, parentOf, type Entry } from './api.ts';
import type { AppContext } from './context.ts';
import { confirmDialog, formDialog } from './dialogs.ts';
import { download, field, h } from './dom.ts';
import { fileActionsFor } from './extensions.ts';
import { kindOf, previewable } from './kinds.ts';
import type { MenuItem } from './menu.ts';
import { pickFolder } from './pick-folder.ts';
import { openPreview } from './preview.ts';
import { openShareDialog } from './share-dialog.ts';
import { openVersions } from './versions.ts';

export function open(entry: Entry, siblings: Entry[], app: AppContext): void {
  if (entry.dir) app.go(`files${entry.path}`);
  else if (previewable(kindOf(entry)))
    openPreview(
      entry,
      siblings.filter((s) => !s.dir),
    );
  else download(contentUrl(entry.path, { download: true }), entry.name);
}

export async function rename(entry: Entry, app: AppContext): Promise<void> {
  const input = h('input', {
    type: 'text',
    name: 'name',
    value: entry.name,
    autocomplete: 'off',
    spellcheck: 'false',
    required: true,
  });
  const pending = formDialog({
    title: `Rename ${entry.dir ? 'folder' : 'file'}`,
    fields: [field('New name', input)],
    confirm: 'Rename',
    submit: async () => {
      const name = input.value.trim();
      if (!name) throw new Error('A name is required.');
      if (name === entry.name) return false;
      await files.move(entry.path, joinPath(parentOf(entry.path), name));
      return true;
    },
  });
  // The name without its extension is selected, as in desktop file managers.
  const dot = entry.dir ? -1 : entry.name.lastIndexOf('.');
  if (dot > 0) input.setSelectionRange(0, dot);
  const done = await pending;
  if (done) {
    app.toast(`Renamed to “${input.value.trim()}”`);
    app.reload();
  }
}

export async function newFolder(folder: string, app: AppContext): Promise<void> {
  const input = h('input', {
    type: 'text',
    name: 'name',
    value: '',
    placeholder: 'Untitled folder',
    autocomplete: 'off',
    required: true,
  });
  const created = await formDialog({
    title: 'New folder',
    fields: [field('Folder name', input)],
    confirm: 'Create',
    submit: async () => {
      const name = input.value.trim();
      if (!name) throw new Error('A name is required.');
      await files.mkdir(joinPath(folder, name));
      return name;
    },
  });
  if (created) {
    app.toast(`Folder “${created}” created`);
    app.reload();
  }
}

export async function moveOrCopy(entries: Entry[], app: AppContext, copy = false): Promise<void> {
  if (entries.length === 0) return;
  const what = entries.length === 1 ? `“${entries[0].name}”` : `${entries.length} items`;
  const moved = await pickFolder({
    title: `${copy ? 'Copy' : 'Move'} ${what} to…`,
    start: parentOf(entries[0].path),
    confirm: copy ? 'Copy here' : 'Move here',
    submit: async (target) => {
      for (const e of entries) {
        if (!copy && (target === e.path || target.startsWith(e.path + '/')))
          throw new Error(`“${e.name}” cannot go inside itself.`);
        if (!copy && parentOf(e.path) === target) continue;
        await (copy ? files.copy : files.move)(e.path, joinPath(target, e.name));
      }
    },
  });
  if (moved) {
    app.toast(`${copy ? 'Copied' : 'Moved'} ${what}`);
    app.reload();
    if (copy) app.refreshQuota();
  }
}

export async function remove(entries: Entry[], app: AppContext): Promise<void> {
  const trashIds: number[] = [];
  try {
    for (const e of entries) trashIds.push((await files.remove(e.path)).trashId);
  } catch (err) {
    app.toast(err instanceof Error ? err.message : String(err), { error: true });
  }
  if (trashIds.length === 0) return;
  const what = entries.length === 1 ? `“${entries[0].name}”` : `${trashIds.length} items`;
  app.toast(`Moved ${what} to the trash`, {
    action: {
      label: 'Undo',
      run: async () => {
        for (const id of trashIds) await api('POST', `/api/trash/${id}/restore`);
        app.toast(`Restored ${what}`);
        app.reload();
      },
    },
  });
  app.reload();
}

export function menuFor(
  entry: Entry,
  siblings: Entry[],
  app: AppContext,
): (MenuItem | 'separator')[] {
  const items: (MenuItem | 'separator')[] = [];
  const kind = kindOf(entry);
  if (entry.dir)
    items.push({ label: 'Open', icon: 'folder', run: () => open(entry, siblings, app) });
  else {
    if (previewable(kind))
      items.push({ label: 'Preview', icon: 'eye', run: () => open(entry, siblings, app) });
    items.push({
      label: 'Download',
      icon: 'download',
      run: () => download(contentUrl(entry.path, { download: true }), entry.name),
    });
  }
  for (const a of fileActionsFor(entry))
    items.push({ label: a.label, icon: a.icon, run: () => a.run(entry, app) });
  items.push(
    'separator',
    { label: 'Share…', icon: 'link', run: () => openShareDialog(entry, app) },
    { label: 'Rename…', icon: 'pencil', run: () => rename(entry, app) },
    { label: 'Move…', icon: 'move', run: () => moveOrCopy([entry], app) },
    { label: 'Copy…', icon: 'copy', run: () => moveOrCopy([entry], app, true) },
  );
  if (!entry.dir)
    items.push({ label: 'Versions…', icon: 'history', run: () => openVersions(entry, app) });
  items.push('separator', {
    label: 'Delete',
    icon: 'trash',
    danger: true,
    run: () => remove([entry], app),
  });
  return items;
}

/** Asks before replacing files an upload would overwrite (the old content stays as a version). */
export async function confirmReplace(names: string[]): Promise<boolean> {
  if (names.length === 0) return true;
  const what =
    names.length === 1
      ? `“${names[0]}” already exists.`
      : `${names.length} files already exist here.`;
  return confirmDialog({
    title: 'Replace existing files?',
    message: `${what} Uploading replaces the current content; the old one stays in Versions.`,
    confirm: 'Replace',
  });
}
