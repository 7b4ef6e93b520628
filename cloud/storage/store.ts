/**
 * The wallet-scoped file store: a tree of nodes in SQLite per wallet, content in immutable blobs.
 * Every lookup starts at the wallet's own root row, so no path of one wallet can name a node of
 * another. Overwrites keep the old content as a version; deletes move a subtree to the trash.
 */
import { CloudError } from '../errors.ts';
import { byId, child, fileEtag, isDir, subtree, type FileNode } from './nodes.ts';
import { joinPath } from './paths.ts';
import { FileTree } from './tree.ts';

export type { FileNode };
export type { WalletRow } from './lookup.ts';

export class FileStore extends FileTree {
  // ---- trash ----

  listTrash(
    address: string,
  ): { id: number; path: string; deletedAt: number; bytes: number; dir: boolean }[] {
    return this.db
      .all<{ id: number; path: string; deleted_at: number; bytes: number; dir: number }>(
        'SELECT t.id, t.path, t.deleted_at, t.bytes, n.dir FROM trash t JOIN nodes n ON n.id = t.node_id WHERE t.wallet = ? ORDER BY t.deleted_at DESC, t.id DESC',
        address,
      )
      .map((r) => ({
        id: r.id,
        path: r.path,
        deletedAt: r.deleted_at,
        bytes: r.bytes,
        dir: r.dir === 1,
      }));
  }

  /** Restores to the original path (folders recreated); a taken name gets a " (restored)" suffix. */
  restore(address: string, trashId: number): string[] {
    const { names, node } = this.db.tx(() => {
      const row = this.db.get<{ node_id: number; path: string }>(
        'SELECT node_id, path FROM trash WHERE id = ? AND wallet = ?',
        trashId,
        address,
      );
      if (!row) throw new CloudError('NOT_FOUND', 'no such item in the trash');
      const original = row.path.split('/').filter(Boolean);
      const parent = this.mkdirp(address, original.slice(0, -1));
      const base = original[original.length - 1];
      let name = base;
      for (let i = 1; child(this.db, parent.id, name); i++) {
        const dot = base.lastIndexOf('.');
        const [stem, ext] = dot > 0 ? [base.slice(0, dot), base.slice(dot)] : [base, ''];
        name = `${stem} (restored${i > 1 ? ` ${i}` : ''})${ext}`;
      }
      this.db.run(
        'UPDATE nodes SET parent_id = ?, name = ? WHERE id = ?',
        parent.id,
        name,
        row.node_id,
      );
      this.db.run('DELETE FROM trash WHERE id = ?', trashId);
      this.touch(parent);
      return { names: [...original.slice(0, -1), name], node: byId(this.db, row.node_id)! };
    });
    this.emit({
      wallet: address,
      kind: 'restore',
      path: joinPath(names),
      nodeId: node.id,
      dir: isDir(node),
    });
    return names;
  }

  /** Deletes a trash item for good (its versions and properties too). */
  purge(address: string, trashId: number): void {
    const row = this.db.tx(() => {
      const row = this.db.get<{ node_id: number; path: string }>(
        'SELECT node_id, path FROM trash WHERE id = ? AND wallet = ?',
        trashId,
        address,
      );
      if (!row) throw new CloudError('NOT_FOUND', 'no such item in the trash');
      const node = byId(this.db, row.node_id)!;
      for (const n of subtree(this.db, node).reverse()) this.ledger.destroy(n);
      this.db.run('DELETE FROM trash WHERE id = ?', trashId);
      return { ...row, dir: isDir(node) };
    });
    this.ledger.reap();
    this.emit({
      wallet: address,
      kind: 'purge',
      path: row.path,
      nodeId: row.node_id,
      dir: row.dir,
    });
  }

  /** Purges trash items older than the retention; returns how many. */
  purgeExpiredTrash(retentionMs: number): number {
    const rows = this.db.all<{ id: number; wallet: string }>(
      'SELECT id, wallet FROM trash WHERE deleted_at <= ?',
      this.clock.now() - retentionMs,
    );
    for (const r of rows) this.purge(r.wallet, r.id);
    return rows.length;
  }

  // ---- versions ----

  versions(node: FileNode): { id: number; size: number; mtime: number; etag: string }[] {
    return this.db.all(
      'SELECT id, size, mtime, etag FROM versions WHERE node_id = ? ORDER BY mtime DESC, id DESC',
      node.id,
    );
  }

  versionBlob(
    node: FileNode,
    versionId: number,
  ): { blob: string; size: number; mtime: number; etag: string } | undefined {
    return this.db.get(
      'SELECT blob, size, mtime, etag FROM versions WHERE id = ? AND node_id = ?',
      versionId,
      node.id,
    );
  }

  /** Makes a version current again; the current content becomes a version. */
  restoreVersion(address: string, node: FileNode, versionId: number): FileNode {
    const updated = this.db.tx(() => {
      const v = this.versionBlob(node, versionId);
      if (!v) throw new CloudError('NOT_FOUND', 'no such version');
      this.db.run('DELETE FROM versions WHERE id = ?', versionId);
      if (node.blob) {
        this.db.run(
          'INSERT INTO versions (node_id, blob, size, mtime, etag) VALUES (?, ?, ?, ?, ?)',
          node.id,
          node.blob,
          node.size,
          node.mtime,
          node.etag,
        );
      }
      this.db.run(
        'UPDATE nodes SET blob = ?, size = ?, mtime = ?, etag = ? WHERE id = ?',
        v.blob,
        v.size,
        this.clock.now(),
        fileEtag(v.blob),
        node.id,
      );
      return byId(this.db, node.id)!;
    });
    const names = this.pathOf(updated);
    if (names)
      this.emit({
        wallet: address,
        kind: 'write',
        path: joinPath(names),
        nodeId: node.id,
        dir: false,
      });
    return updated;
  }
}
