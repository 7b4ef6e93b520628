/**
 * The upload queue and its panel: two files at a time over tus, each with a progress bar
 * (role=progressbar), cancel and retry. Folders dropped onto the page keep their structure.
 */
import { fill, h } from './dom.ts';
import { formatBytes } from './format.ts';
import { icon } from './icons.ts';
import { type ProgressBar, progressBar } from './parts.ts';
import { TusUpload, UploadError } from './tus.ts';

type Status = 'queued' | 'uploading' | 'done' | 'failed' | 'cancelled';

interface Item {
  file: File;
  path: string;
  status: Status;
  loaded: number;
  error?: string;
  tus?: TusUpload;
  row: HTMLLIElement;
  progress: ProgressBar;
  note: HTMLSpanElement;
  button: HTMLButtonElement;
}

const PARALLEL = 2;

export class UploadQueue {
  private readonly items: Item[] = [];
  readonly panel: HTMLElement;
  private readonly list: HTMLOListElement;
  private readonly summary: HTMLSpanElement;
  private readonly total = progressBar('All uploads');
  private hideTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly toggle: HTMLButtonElement;

  constructor(private readonly onUploaded: (path: string) => void) {
    this.summary = h('span', { class: 'uploads-summary' });
    this.list = h('ol', { class: 'uploads-list' });
    this.toggle = h(
      'button',
      { type: 'button', class: 'icon-btn', 'aria-label': 'Hide uploads', 'aria-expanded': 'true' },
      icon('chevron'),
    );
    this.toggle.addEventListener('click', () =>
      this.setCollapsed(!this.panel.classList.contains('collapsed')),
    );
    const toggle = this.toggle;
    const clear = h(
      'button',
      {
        type: 'button',
        class: 'icon-btn',
        'aria-label': 'Close the upload list',
        onclick: () => this.clearFinished(),
      },
      icon('close'),
    );
    this.panel = h(
      'section',
      { class: 'uploads', 'aria-label': 'Uploads', hidden: true },
      h('header', { class: 'uploads-head' }, h('h2', null, 'Uploads'), this.summary, toggle, clear),
      this.total.bar,
      this.list,
    );
  }

  add(files: { file: File; path: string }[]): void {
    for (const { file, path } of files) {
      const progress = progressBar(`Uploading ${file.name}`);
      const note = h('span', { class: 'upload-note' }, 'Waiting');
      const button = h(
        'button',
        { type: 'button', class: 'icon-btn small', 'aria-label': `Cancel ${file.name}` },
        icon('close'),
      );
      const row = h(
        'li',
        { class: 'upload' },
        h(
          'div',
          { class: 'upload-line' },
          h('span', { class: 'upload-name', title: path }, file.name),
          note,
          button,
        ),
        progress.bar,
      );
      const item: Item = { file, path, status: 'queued', loaded: 0, row, progress, note, button };
      button.addEventListener('click', () => this.buttonAction(item));
      this.items.push(item);
      this.list.append(row);
    }
    this.panel.hidden = false;
    this.setCollapsed(false);
    this.pump();
    this.render();
  }

  private setCollapsed(collapsed: boolean): void {
    this.panel.classList.toggle('collapsed', collapsed);
    this.toggle.setAttribute('aria-expanded', String(!collapsed));
    this.toggle.setAttribute('aria-label', collapsed ? 'Show uploads' : 'Hide uploads');
  }

  /** Whether uploads are still running (the page warns before it is closed). */
  busy(): boolean {
    return this.items.some((i) => i.status === 'queued' || i.status === 'uploading');
  }

  private buttonAction(item: Item): void {
    if (item.status === 'failed' || item.status === 'cancelled') {
      item.status = 'queued';
      item.error = undefined;
      this.pump();
    } else if (item.status === 'done') {
      item.row.remove();
      this.items.splice(this.items.indexOf(item), 1);
    } else {
      item.status = 'cancelled';
      void item.tus?.cancel();
    }
    this.render();
  }

  private pump(): void {
    while (this.items.filter((i) => i.status === 'uploading').length < PARALLEL) {
      const next = this.items.find((i) => i.status === 'queued');
      if (!next) break;
      void this.run(next);
    }
  }

  private async run(item: Item): Promise<void> {
    item.status = 'uploading';
    item.tus = new TusUpload(item.file, item.path, {
      onProgress: (loaded) => {
        item.loaded = loaded;
        this.render();
      },
    });
    this.render();
    try {
      await item.tus.start();
      item.status = 'done';
      item.loaded = item.file.size;
      this.onUploaded(item.path);
    } catch (e) {
      // The cancel button may have changed the status while the upload ran.
      if ((item.status as Status) !== 'cancelled') {
        item.status = 'failed';
        item.error = e instanceof UploadError ? e.message : String(e);
      }
    }
    this.render();
    this.pump();
  }

  private clearFinished(): void {
    for (const i of [...this.items]) {
      if (i.status === 'uploading' || i.status === 'queued') continue;
      i.row.remove();
      this.items.splice(this.items.indexOf(i), 1);
    }
    if (this.items.length === 0) this.panel.hidden = true;
    this.render();
  }

  private render(): void {
    let loaded = 0;
    let size = 0;
    for (const i of this.items) {
      const pct =
        i.file.size === 0
          ? i.status === 'done'
            ? 100
            : 0
          : Math.floor((i.loaded / i.file.size) * 100);
      i.progress.set(pct);
      i.row.dataset.status = i.status;
      const label =
        i.status === 'failed' || i.status === 'cancelled'
          ? `Retry ${i.file.name}`
          : i.status === 'done'
            ? `Remove ${i.file.name} from the list`
            : `Cancel ${i.file.name}`;
      i.button.setAttribute('aria-label', label);
      i.button.title = label;
      fill(
        i.button,
        icon(
          i.status === 'failed' || i.status === 'cancelled'
            ? 'restore'
            : i.status === 'done'
              ? 'check'
              : 'close',
        ),
      );
      i.note.textContent =
        i.status === 'queued'
          ? 'Waiting'
          : i.status === 'uploading'
            ? `${pct}% of ${formatBytes(i.file.size)}`
            : i.status === 'done'
              ? formatBytes(i.file.size)
              : i.status === 'cancelled'
                ? 'Cancelled'
                : `Failed: ${i.error}`;
      if (i.status !== 'cancelled' && i.status !== 'failed') {
        loaded += i.loaded;
        size += i.file.size;
      }
    }
    const active = this.items.filter(
      (i) => i.status === 'uploading' || i.status === 'queued',
    ).length;
    const failed = this.items.filter((i) => i.status === 'failed').length;
    const pct = size === 0 ? 100 : Math.floor((loaded / size) * 100);
    this.total.set(pct);
    this.summary.textContent =
      active > 0 ? `${active} left · ${pct}%` : failed > 0 ? `${failed} failed` : 'All done';
    // When everything went through, the panel folds to its header at once (it covers the page's
    // corner) and then goes away; failures stay open until dealt with.
    clearTimeout(this.hideTimer);
    if (active === 0 && failed === 0 && this.items.length > 0) {
      this.setCollapsed(true);
      this.hideTimer = setTimeout(() => this.clearFinished(), 4000);
    }
  }
}

/** The files of a drop, folders walked (their paths kept), or of a file input. */
export async function droppedFiles(data: DataTransfer): Promise<{ file: File; rel: string }[]> {
  // Items can be read only while the drop event runs: take them all before the first await.
  const entries = [...data.items]
    .filter((i) => i.kind === 'file')
    .map((i) => ({ file: i.getAsFile(), entry: i.webkitGetAsEntry?.() ?? null }));
  const out: { file: File; rel: string }[] = [];
  const walk = async (entry: FileSystemEntry, prefix: string): Promise<void> => {
    if (entry.isFile) {
      const file = await new Promise<File>((res, rej) =>
        (entry as FileSystemFileEntry).file(res, rej),
      );
      out.push({ file, rel: prefix + file.name });
    } else if (entry.isDirectory) {
      const reader = (entry as FileSystemDirectoryEntry).createReader();
      // readEntries answers in batches until an empty one.
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((res, rej) =>
          reader.readEntries(res, rej),
        );
        if (batch.length === 0) break;
        for (const child of batch) await walk(child, `${prefix}${entry.name}/`);
      }
    }
  };
  for (const { file, entry } of entries) {
    if (entry) await walk(entry, '');
    else if (file) out.push({ file, rel: file.name });
  }
  return out;
}
