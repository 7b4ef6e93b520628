/**
 * The wallet-scoped file store: a tree of nodes in SQLite per wallet, content in immutable blobs.
 * Every lookup starts at the wallet's own root row, so no path of one wallet can name a node of
 * another. Overwrites keep the old content as a version; deletes move a subtree to the trash.
 */
import { CloudError } from '../errors.ts';
import type { Clock } from '../options.ts';
import type { BlobRef, BlobStore } from './blobs.ts';
import type { Db } from './db.ts';
import type { ChangeEvent } from './events.ts';
import {
  byId,
  child,
  children,
  dirEtag,
  fileEtag,
  isDir,
  pathOf,
  subtree,
  type FileNode,
} from './nodes.ts';
import { joinPath } from './paths.ts';
import { thinVersions } from './thinning.ts';
import { Ledger } from './ledger.ts';

export type { FileNode };

export interface WalletRow {
  address: string;
  role: 'owner' | 'member';
  added_at: number;
  quota_bytes: number | null;
  used_bytes: number;
  root_id: number;
}

export class FileStore {
  /** Blobs whose last reference went away in a committed transaction, unlinked after it. */
  private readonly ledger: Ledger;

  constructor(
    readonly db: Db,
    readonly blobs: BlobStore,
    private readonly clock: Clock,
    private readonly defaultQuota: number,
    private readonly emit: (event: ChangeEvent) => void,
  ) {
    this.ledger = new Ledger(db, blobs);
  }

  // ---- wallets ----

  wallet(address: string): WalletRow | undefined {
    return this.db.get<WalletRow>('SELECT * FROM wallets WHERE address = ?', address);
  }

  wallets(): WalletRow[] {
    return this.db.all<WalletRow>('SELECT * FROM wallets ORDER BY added_at, address');
  }

  addWallet(address: string, role: 'owner' | 'member'): WalletRow {
    return this.db.tx(() => {
      const existing = this.wallet(address);
      if (existing) {
        if (existing.role !== role)
          this.db.run('UPDATE wallets SET role = ? WHERE address = ?', role, address);
        return this.wallet(address)!;
      }
      const now = this.clock.now();
      const rootId = this.db.run(
        'INSERT INTO nodes (wallet, parent_id, name, dir, size, mtime, created, etag) VALUES (?, 0, ?, 1, 0, ?, ?, ?)',
        address,
        address,
        now,
        now,
        '"root"',
      );
      this.db.run('UPDATE nodes SET etag = ? WHERE id = ?', dirEtag(rootId, now), rootId);
      this.db.run(
        'INSERT INTO wallets (address, role, added_at, root_id) VALUES (?, ?, ?, ?)',
        address,
        role,
        now,
        rootId,
      );
      return this.wallet(address)!;
    });
  }

  /** Removes a member's access; their files stay until purgeWallet. */
  removeWallet(address: string): void {
    this.db.tx(() => {
      this.db.run('DELETE FROM wallets WHERE address = ?', address);
      this.db.run('DELETE FROM sessions WHERE wallet = ?', address);
      this.db.run('DELETE FROM app_passwords WHERE wallet = ?', address);
      this.db.run('UPDATE shares SET revoked = 1 WHERE wallet = ?', address);
    });
  }

  setQuota(address: string, bytes: number | null): void {
    this.db.run('UPDATE wallets SET quota_bytes = ? WHERE address = ?', bytes, address);
  }

  quota(address: string): { used: number; quota: number; available: number } {
    const w = this.mustWallet(address);
    const quota = w.quota_bytes ?? this.defaultQuota;
    return { used: w.used_bytes, quota, available: Math.max(0, quota - w.used_bytes) };
  }

  private mustWallet(address: string): WalletRow {
    const w = this.wallet(address);
    if (!w) throw new CloudError('FORBIDDEN', 'this wallet has no space on this node');
    return w;
  }

  // ---- lookup ----

  root(address: string): FileNode {
    return byId(this.db, this.mustWallet(address).root_id)!;
  }

  resolve(address: string, names: readonly string[]): FileNode | undefined {
    let node: FileNode | undefined = this.root(address);
    for (const name of names) {
      if (!node || !isDir(node)) return undefined;
      node = child(this.db, node.id, name);
    }
    return node;
  }

  /** The parent folder of a path, or NO_PARENT (409) when it does not exist. */
  parentOf(address: string, names: readonly string[]): FileNode {
    if (names.length === 0) throw new CloudError('FORBIDDEN', 'the root folder cannot be replaced');
    const parent = this.resolve(address, names.slice(0, -1));
    if (!parent || !isDir(parent))
      throw new CloudError(
        'NO_PARENT',
        `the folder ${joinPath(names.slice(0, -1))} does not exist`,
      );
    return parent;
  }

  list(dir: FileNode): FileNode[] {
    return children(this.db, dir.id);
  }

  /** A folder's members in name order, a page at a time (each page is one finished query). */
  *pages(dir: FileNode, size: number): Generator<FileNode[]> {
    let after: string | null = null;
    for (;;) {
      const page: FileNode[] =
        after === null
          ? this.db.all<FileNode>(
              'SELECT * FROM nodes WHERE parent_id = ? ORDER BY name LIMIT ?',
              dir.id,
              size,
            )
          : this.db.all<FileNode>(
              'SELECT * FROM nodes WHERE parent_id = ? AND name > ? ORDER BY name LIMIT ?',
              dir.id,
              after,
              size,
            );
      if (page.length === 0) return;
      yield page;
      if (page.length < size) return;
      after = page[page.length - 1].name;
    }
  }

  pathOf(node: FileNode): string[] | null {
    return pathOf(this.db, node);
  }

  byId(address: string, id: number): FileNode | undefined {
    const n = byId(this.db, id);
    return n && n.wallet === address ? n : undefined;
  }

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

  private thin(nodeId: number): void {
    const all = this.db.all<{ id: number; mtime: number }>(
      'SELECT id, mtime FROM versions WHERE node_id = ? ORDER BY mtime DESC, id DESC',
      nodeId,
    );
    for (const id of thinVersions(all, this.clock.now())) this.ledger.dropVersion(id);
  }

  // ---- internals ----

  private touch(dir: FileNode): void {
    const now = Math.max(this.clock.now(), dir.mtime + 1);
    this.db.run(
      'UPDATE nodes SET mtime = ?, etag = ? WHERE id = ?',
      now,
      dirEtag(dir.id, now),
      dir.id,
    );
  }
}
