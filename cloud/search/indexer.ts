/**
 * Keeps the search index current: every committed change of the store (the onChange events) queues
 * the node it touched, and a single worker brings that node (and, for writes, copies and new
 * folders, its subtree) up to date by comparing etags. At start a full pass catches up with changes
 * a crash kept from the index and builds a missing index; deleted nodes are swept out after purges.
 * Search answers wait (bounded) until the queue is empty, so a file is found right after its write.
 */
import type { Logger } from '../options.ts';
import type { BlobStore } from '../storage/blobs.ts';
import type { Db } from '../storage/db.ts';
import type { ChangeEvent } from '../storage/events.ts';
import { byId, isDir, subtree, type FileNode } from '../storage/nodes.ts';
import { SearchDb, type DocUpdate } from './index-db.ts';
import { isTextual, readText } from './text.ts';

export interface IndexerOptions {
  /** Bytes of a file's content that are indexed. Default 1 MiB. */
  maxTextBytes: number;
}

const BATCH = 256;

export class SearchIndexer {
  /** Nodes to bring up to date: id → whether its subtree is checked too. */
  private readonly pending = new Map<number, boolean>();
  /** Wallets whose deleted documents must be swept out. */
  private readonly sweeps = new Set<string>();
  private running: Promise<void> | undefined;
  private closed = false;
  /** Documents indexed since start (a figure for the benchmark). */
  indexed = 0;

  constructor(
    readonly index: SearchDb,
    private readonly cloudDb: Db,
    private readonly blobs: BlobStore,
    private readonly logger: Logger,
    private readonly opts: IndexerOptions,
  ) {}

  onChange(e: ChangeEvent): void {
    if (this.closed) return;
    if (e.kind === 'delete') return; // trashed nodes keep their documents: results skip them, a restore finds them
    if (e.kind === 'purge') this.sweeps.add(e.wallet);
    else
      this.pending.set(
        e.nodeId,
        (this.pending.get(e.nodeId) ?? false) ||
          e.kind === 'write' ||
          e.kind === 'copy' ||
          e.kind === 'mkdir',
      );
    this.kick();
  }

  /** Resolves once every change queued so far is in the index, or after `timeoutMs`. */
  async idle(timeoutMs: number): Promise<void> {
    if (!this.running) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.running,
      new Promise<void>((r) => (timer = setTimeout(r, timeoutMs))),
    ]);
    clearTimeout(timer);
  }

  /** A full pass over every node of the store: builds a missing index, repairs a stale one. */
  reconcile(): Promise<void> {
    return this.enqueueWork(async () => {
      for (let after = 0; ; ) {
        const rows = this.cloudDb.all<FileNode>(
          'SELECT * FROM nodes WHERE id > ? ORDER BY id LIMIT ?',
          after,
          BATCH,
        );
        if (rows.length === 0) break;
        after = rows[rows.length - 1].id;
        await this.sync(rows.filter((n) => n.parent_id !== 0));
        if (this.closed) return;
      }
      await this.sweep(undefined);
    });
  }

  private kick(): void {
    if (this.pending.size > 0 || this.sweeps.size > 0) void this.enqueueWork(() => this.drain());
  }

  /** Runs work after whatever is running; errors are logged, never thrown into a request. */
  private enqueueWork(work: () => Promise<void>): Promise<void> {
    const prev = this.running ?? Promise.resolve();
    const next = prev.then(work).catch((e) => {
      if (!this.closed) this.logger.warn('search indexing failed', { error: String(e) });
    });
    this.running = next;
    void next.then(() => {
      if (this.running === next) this.running = undefined;
    });
    return next;
  }

  private async drain(): Promise<void> {
    while (!this.closed && (this.pending.size > 0 || this.sweeps.size > 0)) {
      const ids = [...this.pending].slice(0, BATCH);
      for (const [id] of ids) this.pending.delete(id);
      const nodes: FileNode[] = [];
      const gone: number[] = [];
      for (const [id, deep] of ids) {
        const node = byId(this.cloudDb, id);
        if (!node) gone.push(id);
        else if (deep) nodes.push(...subtree(this.cloudDb, node));
        else nodes.push(node);
      }
      this.index.apply([], gone);
      for (let i = 0; i < nodes.length; i += BATCH) await this.sync(nodes.slice(i, i + BATCH));
      for (const wallet of [...this.sweeps]) {
        this.sweeps.delete(wallet);
        await this.sweep(wallet);
      }
    }
  }

  /** Brings these nodes' documents up to date in one transaction. */
  private async sync(nodes: FileNode[]): Promise<void> {
    const updates: DocUpdate[] = [];
    for (const n of nodes) {
      if (n.parent_id === 0) continue;
      const doc = this.index.doc(n.id);
      if (isDir(n)) {
        if (!doc || doc.name !== n.name)
          updates.push({ nodeId: n.id, wallet: n.wallet, name: n.name, etag: '', text: null });
        continue;
      }
      if (doc && doc.etag === n.etag) {
        if (doc.name !== n.name)
          updates.push({ nodeId: n.id, wallet: n.wallet, name: n.name, etag: n.etag });
        continue;
      }
      let text: string | null = null;
      if (n.blob && n.size > 0 && isTextual(n.name, n.type)) {
        // The blob may be gone already (overwritten and thinned): a later event indexes the newer one.
        text = await readText(this.blobs.path(n.blob), n.size, this.opts.maxTextBytes).catch(
          () => null,
        );
      }
      updates.push({ nodeId: n.id, wallet: n.wallet, name: n.name, etag: n.etag, text });
    }
    if (this.closed) return;
    this.index.apply(updates);
    this.indexed += updates.length;
  }

  /** Removes documents whose node no longer exists (purged), a batch at a time. */
  private async sweep(wallet: string | undefined): Promise<void> {
    for (let after = 0; !this.closed; ) {
      const ids = this.index.ids(after, 1000, wallet);
      if (ids.length === 0) return;
      after = ids[ids.length - 1];
      const gone = ids.filter(
        (id) => !this.cloudDb.get('SELECT 1 AS x FROM nodes WHERE id = ?', id),
      );
      this.index.apply([], gone);
      await new Promise((r) => setImmediate(r));
    }
  }

  close(): void {
    this.closed = true;
    this.pending.clear();
    this.sweeps.clear();
  }
}
