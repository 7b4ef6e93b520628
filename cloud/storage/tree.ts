/**
 * The file store's writes: folders, file content (an overwrite keeps the old content as a version),
 * moves, copies, and deletes that move a subtree to the trash.
 */
import { CloudError } from '../errors.ts';
import type { BlobRef } from './blobs.ts';
import { byId, child, dirEtag, fileEtag, isDir, subtree, type FileNode } from './nodes.ts';
import { joinPath } from './paths.ts';
import { thinVersions } from './thinning.ts';
import { FileLookup } from './lookup.ts';

export class FileTree extends FileLookup {
  // ---- writes ----

  mkdir(address: string, names: readonly string[]): FileNode {
    const node = this.db.tx(() => {
      const parent = this.parentOf(address, names);
      const name = names[names.length - 1];
      if (child(this.db, parent.id, name))
        throw new CloudError('ALREADY_EXISTS', `${joinPath(names)} already exists`);
      const now = this.clock.now();
      const id = this.db.run(
        'INSERT INTO nodes (wallet, parent_id, name, dir, size, mtime, created, etag) VALUES (?, ?, ?, 1, 0, ?, ?, ?)',
        address,
        parent.id,
        name,
        now,
        now,
        '""',
      );
      this.db.run('UPDATE nodes SET etag = ? WHERE id = ?', dirEtag(id, now), id);
      this.touch(parent);
      return byId(this.db, id)!;
    });
    this.emit({
      wallet: address,
      kind: 'mkdir',
      path: joinPath(names),
      nodeId: node.id,
      dir: true,
    });
    return node;
  }

  /** Creates missing folders along the path (for uploads into new folders and restores). */
  mkdirp(address: string, names: readonly string[]): FileNode {
    let node = this.root(address);
    for (let i = 0; i < names.length; i++) {
      const next = child(this.db, node.id, names[i]);
      if (next && !isDir(next))
        throw new CloudError('CONFLICT', `${joinPath(names.slice(0, i + 1))} is a file`);
      node = next ?? this.mkdir(address, names.slice(0, i + 1));
    }
    return node;
  }

  /** Bytes this wallet may still add (for streaming limits). */
  room(address: string): number {
    return this.quota(address).available;
  }

  /**
   * Commits a written blob as the content of the file at names (created or overwritten; the old
   * content becomes a version). The blob's bytes were already checked against the quota.
   */
  commitFile(
    address: string,
    names: readonly string[],
    blob: BlobRef,
    opts: { type?: string | null; mtime?: number } = {},
  ): { node: FileNode; created: boolean } {
    const result = this.db.tx(() => {
      const q = this.quota(address);
      if (blob.size > q.available)
        throw new CloudError('QUOTA_EXCEEDED', 'the wallet is out of space');
      const parent = this.parentOf(address, names);
      const name = names[names.length - 1];
      const existing = child(this.db, parent.id, name);
      if (existing && isDir(existing))
        throw new CloudError('CONFLICT', `${joinPath(names)} is a folder`);
      const now = this.clock.now();
      const mtime = opts.mtime ?? now;
      this.db.run('INSERT INTO blobs (id, size, refs) VALUES (?, ?, 1)', blob.id, blob.size);
      this.ledger.charge(address, blob.size);
      let id: number;
      if (existing) {
        if (existing.blob) {
          this.db.run(
            'INSERT INTO versions (node_id, blob, size, mtime, etag) VALUES (?, ?, ?, ?, ?)',
            existing.id,
            existing.blob,
            existing.size,
            existing.mtime,
            existing.etag,
          );
        }
        this.db.run(
          'UPDATE nodes SET blob = ?, size = ?, mtime = ?, type = COALESCE(?, type), etag = ? WHERE id = ?',
          blob.id,
          blob.size,
          mtime,
          opts.type ?? null,
          fileEtag(blob.id),
          existing.id,
        );
        id = existing.id;
        this.thin(existing.id);
      } else {
        id = this.db.run(
          'INSERT INTO nodes (wallet, parent_id, name, dir, blob, size, mtime, created, type, etag) VALUES (?, ?, ?, 0, ?, ?, ?, ?, ?, ?)',
          address,
          parent.id,
          name,
          blob.id,
          blob.size,
          mtime,
          now,
          opts.type ?? null,
          fileEtag(blob.id),
        );
      }
      this.touch(parent);
      return { node: byId(this.db, id)!, created: !existing };
    });
    this.ledger.reap();
    this.emit({
      wallet: address,
      kind: 'write',
      path: joinPath(names),
      nodeId: result.node.id,
      dir: false,
    });
    return result;
  }

  setMtime(node: FileNode, mtime: number): void {
    this.db.run('UPDATE nodes SET mtime = ? WHERE id = ?', mtime, node.id);
  }

  /** Moves a node to the trash (it keeps its versions and properties there). */
  trash(address: string, names: readonly string[]): number {
    const { trashId, node } = this.db.tx(() => {
      const node = this.resolve(address, names);
      if (!node || names.length === 0)
        throw new CloudError('NOT_FOUND', `${joinPath(names)} does not exist`);
      const bytes = this.ledger.bytesOf(node);
      const parent = byId(this.db, node.parent_id!)!;
      this.db.run('UPDATE nodes SET parent_id = NULL WHERE id = ?', node.id);
      this.db.run('DELETE FROM shares WHERE node_id = ?', node.id);
      const trashId = this.db.run(
        'INSERT INTO trash (wallet, node_id, path, deleted_at, bytes) VALUES (?, ?, ?, ?, ?)',
        address,
        node.id,
        joinPath(names),
        this.clock.now(),
        bytes,
      );
      this.touch(parent);
      return { trashId, node };
    });
    this.emit({
      wallet: address,
      kind: 'delete',
      path: joinPath(names),
      nodeId: node.id,
      dir: isDir(node),
    });
    return trashId;
  }

  /** Moves or renames; with overwrite an existing destination goes to the trash first. */
  move(
    address: string,
    from: readonly string[],
    to: readonly string[],
    overwrite: boolean,
  ): { node: FileNode; replaced: boolean } {
    const out = this.db.tx(() => {
      const { node, parent, name, existing } = this.transfer(address, from, to, overwrite, 'moved');
      if (existing) this.trash(address, to);
      const oldParent = byId(this.db, node.parent_id!)!;
      this.db.run(
        'UPDATE nodes SET parent_id = ?, name = ? WHERE id = ?',
        parent.id,
        name,
        node.id,
      );
      this.touch(oldParent);
      this.touch(parent);
      return { node: byId(this.db, node.id)!, replaced: !!existing };
    });
    this.emit({
      wallet: address,
      kind: 'move',
      path: joinPath(to),
      from: joinPath(from),
      nodeId: out.node.id,
      dir: isDir(out.node),
    });
    return out;
  }

  /** Copies a file or folder (depth 0 copies a folder without its members); content blobs are shared. */
  copy(
    address: string,
    from: readonly string[],
    to: readonly string[],
    overwrite: boolean,
    shallow = false,
  ): { node: FileNode; replaced: boolean } {
    const out = this.db.tx(() => {
      const { node, parent, name, existing } = this.transfer(
        address,
        from,
        to,
        overwrite,
        'copied',
      );
      const nodes = shallow ? [node] : subtree(this.db, node);
      const bytes = nodes.reduce((s, n) => s + (isDir(n) ? 0 : n.size), 0);
      // A replaced destination goes to the trash, which still counts: the copy needs room of its own.
      if (bytes > this.quota(address).available)
        throw new CloudError('QUOTA_EXCEEDED', 'the wallet is out of space');
      if (existing) this.trash(address, to);
      const now = this.clock.now();
      const ids = new Map<number, number>();
      for (const n of nodes) {
        const parentId = n === node ? parent.id : ids.get(n.parent_id!)!;
        const id = this.db.run(
          'INSERT INTO nodes (wallet, parent_id, name, dir, blob, size, mtime, created, type, etag) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
          address,
          parentId,
          n === node ? name : n.name,
          n.dir,
          n.blob,
          n.size,
          isDir(n) ? now : n.mtime,
          now,
          n.type,
          n.etag,
        );
        if (isDir(n)) this.db.run('UPDATE nodes SET etag = ? WHERE id = ?', dirEtag(id, now), id);
        if (n.blob) this.db.run('UPDATE blobs SET refs = refs + 1 WHERE id = ?', n.blob);
        this.db.run(
          'INSERT INTO props (node_id, ns, name, xml) SELECT ?, ns, name, xml FROM props WHERE node_id = ?',
          id,
          n.id,
        );
        ids.set(n.id, id);
      }
      this.ledger.charge(address, bytes);
      this.touch(parent);
      return { node: byId(this.db, ids.get(node.id)!)!, replaced: !!existing };
    });
    this.emit({
      wallet: address,
      kind: 'copy',
      path: joinPath(to),
      from: joinPath(from),
      nodeId: out.node.id,
      dir: isDir(out.node),
    });
    return out;
  }

  /** The checks a move and a copy share: source exists, destination's folder exists, no loop, Overwrite. */
  private transfer(
    address: string,
    from: readonly string[],
    to: readonly string[],
    overwrite: boolean,
    verb: string,
  ) {
    const node = this.resolve(address, from);
    if (!node || from.length === 0)
      throw new CloudError('NOT_FOUND', `${joinPath(from)} does not exist`);
    if (to.length === 0) throw new CloudError('FORBIDDEN', 'the root folder cannot be replaced');
    if (to.length >= from.length && from.every((n, i) => to[i] === n)) {
      if (to.length === from.length)
        throw new CloudError('FORBIDDEN', 'source and destination are the same');
      throw new CloudError('CONFLICT', `a folder cannot be ${verb} into itself`);
    }
    const parent = this.parentOf(address, to);
    const name = to[to.length - 1];
    const existing = child(this.db, parent.id, name);
    if (existing && !overwrite)
      throw new CloudError('PRECONDITION_FAILED', `${joinPath(to)} exists`);
    return { node, parent, name, existing };
  }

  protected thin(nodeId: number): void {
    const all = this.db.all<{ id: number; mtime: number }>(
      'SELECT id, mtime FROM versions WHERE node_id = ? ORDER BY mtime DESC, id DESC',
      nodeId,
    );
    for (const id of thinVersions(all, this.clock.now())) this.ledger.dropVersion(id);
  }
}
