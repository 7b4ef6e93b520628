/**
 * WebDAV locks (class 2), kept in SQLite per wallet and keyed by path so a lock can cover an unmapped
 * URL. A lock covers its own path and, with Depth infinity, everything below it.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../options.ts';
import type { Db } from '../storage/db.ts';

export interface Lock {
  token: string;
  wallet: string;
  path: string;
  infinite: number;
  exclusive: number;
  owner: string;
  principal: string;
  timeout_s: number;
  expires: number;
}

const within = (path: string, root: string): boolean =>
  path === root || root === '/' || path.startsWith(root + '/');

export class LockTable {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  /** Live locks of a wallet (expired ones are dropped on the way). */
  all(wallet: string): Lock[] {
    this.db.run('DELETE FROM locks WHERE expires <= ?', this.clock.now());
    return this.db.all<Lock>('SELECT * FROM locks WHERE wallet = ?', wallet);
  }

  /** Locks that apply to path: on it, or depth-infinity locks on an ancestor. */
  covering(locks: Lock[], path: string): Lock[] {
    return locks.filter((l) => l.path === path || (l.infinite === 1 && within(path, l.path)));
  }

  /** Locks on path or anywhere below it (for DELETE and MOVE of a folder, and depth-infinity LOCK). */
  below(locks: Lock[], path: string): Lock[] {
    return locks.filter((l) => within(l.path, path));
  }

  create(
    wallet: string,
    path: string,
    o: {
      infinite: boolean;
      exclusive: boolean;
      owner: string;
      principal: string;
      timeoutS: number;
    },
  ): Lock {
    const lock: Lock = {
      token: `opaquelocktoken:${randomUUID()}`,
      wallet,
      path,
      infinite: o.infinite ? 1 : 0,
      exclusive: o.exclusive ? 1 : 0,
      owner: o.owner,
      principal: o.principal,
      timeout_s: o.timeoutS,
      expires: this.clock.now() + o.timeoutS * 1000,
    };
    this.db.run(
      'INSERT INTO locks (token, wallet, path, infinite, exclusive, owner, principal, timeout_s, expires) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      lock.token,
      wallet,
      path,
      lock.infinite,
      lock.exclusive,
      lock.owner,
      lock.principal,
      lock.timeout_s,
      lock.expires,
    );
    return lock;
  }

  refresh(lock: Lock, timeoutS: number): Lock {
    const expires = this.clock.now() + timeoutS * 1000;
    this.db.run(
      'UPDATE locks SET timeout_s = ?, expires = ? WHERE token = ?',
      timeoutS,
      expires,
      lock.token,
    );
    return { ...lock, timeout_s: timeoutS, expires };
  }

  remove(token: string): void {
    this.db.run('DELETE FROM locks WHERE token = ?', token);
  }

  /** Drops the locks on path and below (after the resource was deleted or moved away). */
  removeBelow(wallet: string, path: string): void {
    for (const l of this.below(this.all(wallet), path)) this.remove(l.token);
  }
}
