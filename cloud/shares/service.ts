/**
 * Share links: a 256-bit random token (only its SHA-256 is stored), read-only or upload-only,
 * optional scrypt password with rate-limited attempts, optional expiry, revocable. An expired link
 * answers 410, a revoked or unknown one 404.
 */
import { randomBytes } from 'node:crypto';
import { hashPassword, randomToken, sha256, verifyPassword } from '../auth/secrets.ts';
import { CloudError } from '../errors.ts';
import { WindowLimiter } from '../http/rate-limit.ts';
import type { Clock } from '../options.ts';
import type { Db } from '../storage/db.ts';
import { joinPath } from '../storage/paths.ts';
import type { FileNode, FileStore } from '../storage/store.ts';

export type ShareMode = 'read' | 'upload';

interface ShareRow {
  id: string;
  token_hash: string;
  wallet: string;
  node_id: number;
  mode: ShareMode;
  password: string | null;
  expires: number | null;
  revoked: number;
  created: number;
}

export interface ShareInfo {
  id: string;
  path: string | null;
  dir: boolean;
  mode: ShareMode;
  hasPassword: boolean;
  expiresAt: number | null;
  created: number;
}

export class ShareService {
  private readonly attempts: WindowLimiter;
  /** Unlock grants for password-protected shares (cookie value → share id and expiry), bounded. */
  private readonly grants = new Map<string, { id: string; until: number }>();

  constructor(
    private readonly db: Db,
    private readonly store: FileStore,
    private readonly clock: Clock,
    attemptsPerMin: number,
  ) {
    this.attempts = new WindowLimiter(attemptsPerMin, 60_000, () => clock.now());
  }

  async create(
    wallet: string,
    node: FileNode,
    o: { mode: ShareMode; password?: string; expiresAt?: number | null },
  ): Promise<{ id: string; token: string }> {
    if (node.parent_id === 0)
      throw new CloudError(
        'BAD_REQUEST',
        'share a file or a folder inside your space, not its root',
      );
    if (o.mode === 'upload' && node.dir !== 1)
      throw new CloudError('BAD_REQUEST', 'upload-only links are for folders');
    if (o.expiresAt != null && o.expiresAt <= this.clock.now())
      throw new CloudError('BAD_REQUEST', 'expiresAt is in the past');
    const token = randomToken(32);
    const id = randomBytes(8).toString('hex');
    const password = o.password ? await hashPassword(o.password) : null;
    this.db.run(
      'INSERT INTO shares (id, token_hash, wallet, node_id, mode, password, expires, revoked, created) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)',
      id,
      sha256(token),
      wallet,
      node.id,
      o.mode,
      password,
      o.expiresAt ?? null,
      this.clock.now(),
    );
    return { id, token };
  }

  list(wallet: string): ShareInfo[] {
    return this.db
      .all<ShareRow>(
        'SELECT * FROM shares WHERE wallet = ? AND revoked = 0 ORDER BY created',
        wallet,
      )
      .map((r) => this.info(r));
  }

  revoke(wallet: string, id: string): void {
    if (
      this.db.changes(
        'UPDATE shares SET revoked = 1 WHERE id = ? AND wallet = ? AND revoked = 0',
        id,
        wallet,
      ) === 0
    ) {
      throw new CloudError('NOT_FOUND', 'no such share');
    }
  }

  private info(r: ShareRow): ShareInfo {
    const node = this.store.byId(r.wallet, r.node_id);
    const names = node ? this.store.pathOf(node) : null;
    return {
      id: r.id,
      path: names ? joinPath(names) : null,
      dir: node?.dir === 1,
      mode: r.mode,
      hasPassword: r.password !== null,
      expiresAt: r.expires,
      created: r.created,
    };
  }

  /** The live share behind a token: 404 unknown/revoked/target gone, 410 expired. */
  open(token: string): { row: ShareRow; node: FileNode } {
    const row = /^[A-Za-z0-9_-]{43}$/.test(token)
      ? this.db.get<ShareRow>('SELECT * FROM shares WHERE token_hash = ?', sha256(token))
      : undefined;
    if (!row || row.revoked) throw new CloudError('NOT_FOUND', 'no such share link');
    if (row.expires !== null && row.expires <= this.clock.now())
      throw new CloudError('GONE', 'this share link has expired');
    const node = this.store.byId(row.wallet, row.node_id);
    if (!node || !this.store.pathOf(node) || !this.store.wallet(row.wallet))
      throw new CloudError('NOT_FOUND', 'the shared item no longer exists');
    return { row, node };
  }

  /** Checks access to a password-protected share: a grant cookie or the password itself. */
  async unlock(
    row: ShareRow,
    client: string,
    password: string | undefined,
    grant: string | undefined,
  ): Promise<string | undefined> {
    if (row.password === null) return undefined;
    const g = grant ? this.grants.get(grant) : undefined;
    if (g && g.id === row.id && g.until > this.clock.now()) return undefined;
    const key = `${row.id}|${client}`;
    if (this.attempts.blocked(key))
      throw new CloudError(
        'RATE_LIMITED',
        `too many wrong passwords; try again in ${this.attempts.retryAfterS(key)} s`,
      );
    if (password === undefined)
      throw new CloudError('UNAUTHENTICATED', 'this share link needs its password');
    if (!(await verifyPassword(password, row.password))) {
      this.attempts.hit(key);
      throw new CloudError('UNAUTHENTICATED', 'wrong share password');
    }
    const cookie = randomToken(24);
    if (this.grants.size >= 10_000) this.grants.delete(this.grants.keys().next().value!);
    this.grants.set(cookie, { id: row.id, until: this.clock.now() + 3600_000 });
    return cookie;
  }
}
