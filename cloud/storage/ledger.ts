/**
 * The bookkeeping under the store's transactions: bytes charged to each wallet's quota and blob
 * reference counts; a blob whose last reference went away is unlinked after the commit (reap).
 */
import type { BlobStore } from './blobs.ts';
import type { Db } from './db.ts';
import { byId, isDir, subtree, type FileNode } from './nodes.ts';

export class Ledger {
  private readonly dead: string[] = [];

  constructor(
    private readonly db: Db,
    private readonly blobs: BlobStore,
  ) {
    // Blobs freed inside a transaction that rolled back are referenced again.
    db.onRollback.push(() => {
      this.dead.length = 0;
    });
  }

  charge(address: string, delta: number): void {
    if (delta === 0) return;
    this.db.run(
      'UPDATE wallets SET used_bytes = MAX(0, used_bytes + ?) WHERE address = ?',
      delta,
      address,
    );
  }

  dropVersion(id: number): void {
    const v = this.db.get<{ blob: string; size: number; node_id: number }>(
      'SELECT blob, size, node_id FROM versions WHERE id = ?',
      id,
    );
    if (!v) return;
    this.db.run('DELETE FROM versions WHERE id = ?', id);
    const owner = byId(this.db, v.node_id);
    if (owner) this.charge(owner.wallet, -v.size);
    this.unref(v.blob);
  }

  /** Bytes a node and its subtree hold, versions included. */
  bytesOf(node: FileNode): number {
    let bytes = 0;
    for (const n of subtree(this.db, node)) {
      bytes += isDir(n) ? 0 : n.size;
      bytes +=
        this.db.get<{ s: number | null }>(
          'SELECT SUM(size) AS s FROM versions WHERE node_id = ?',
          n.id,
        )?.s ?? 0;
    }
    return bytes;
  }

  /** Deletes a node row with its versions, properties and shares (inside a transaction). */
  destroy(n: FileNode): void {
    for (const v of this.db.all<{ id: number }>('SELECT id FROM versions WHERE node_id = ?', n.id))
      this.dropVersion(v.id);
    if (n.blob) {
      this.charge(n.wallet, -n.size);
      this.unref(n.blob);
    }
    this.db.run('DELETE FROM props WHERE node_id = ?', n.id);
    this.db.run('DELETE FROM shares WHERE node_id = ?', n.id);
    this.db.run('DELETE FROM nodes WHERE id = ?', n.id);
  }

  unref(blob: string): void {
    this.db.run('UPDATE blobs SET refs = refs - 1 WHERE id = ?', blob);
    if (this.db.changes('DELETE FROM blobs WHERE id = ? AND refs <= 0', blob) > 0)
      this.dead.push(blob);
  }

  /** Unlinks blobs freed by committed transactions. */
  reap(): void {
    for (const id of this.dead.splice(0)) this.blobs.remove(id).catch(() => {}); // a leftover file is collected at the next start
  }
}
