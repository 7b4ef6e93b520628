/**
 * The wallets and the lookups of the file store. Every lookup starts at the wallet's own root row,
 * so no path of one wallet can name a node of another.
 */
import { CloudError } from '../errors.ts';
import type { Clock } from '../options.ts';
import type { BlobStore } from './blobs.ts';
import type { Db } from './db.ts';
import type { ChangeEvent } from './events.ts';
import { byId, child, children, dirEtag, isDir, pathOf, type FileNode } from './nodes.ts';
import { joinPath } from './paths.ts';
import { Ledger } from './ledger.ts';

export interface WalletRow {
  address: string;
  role: 'owner' | 'member';
  added_at: number;
  quota_bytes: number | null;
  used_bytes: number;
  root_id: number;
}

export class FileLookup {
  /** Blobs whose last reference went away in a committed transaction, unlinked after it. */
  protected readonly ledger: Ledger;

  constructor(
    readonly db: Db,
    readonly blobs: BlobStore,
    protected readonly clock: Clock,
    protected readonly defaultQuota: number,
    protected readonly emit: (event: ChangeEvent) => void,
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

  protected mustWallet(address: string): WalletRow {
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

  // ---- internals ----

  protected touch(dir: FileNode): void {
    const now = Math.max(this.clock.now(), dir.mtime + 1);
    this.db.run(
      'UPDATE nodes SET mtime = ?, etag = ? WHERE id = ?',
      now,
      dirEtag(dir.id, now),
      dir.id,
    );
  }
}
