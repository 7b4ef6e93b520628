/**
 * Who may use this node: the owner (claimed once with the one-time owner code), members the owner
 * adds by address, their sessions (cookie tokens, stored as SHA-256) and their app passwords (scrypt).
 */
import { randomBytes } from 'node:crypto';
import { CloudError } from '../errors.ts';
import type { Clock } from '../options.ts';
import type { Db } from '../storage/db.ts';
import type { FileStore } from '../storage/store.ts';
import { hashPassword, randomToken, sameSecret, sha256, verifyPassword } from './secrets.ts';

export type Role = 'owner' | 'member';

export interface Principal {
  address: string;
  role: Role;
  /** How the request authenticated: a session cookie (needs the CSRF check) or an app password. */
  via: 'session' | 'app-password';
}

export interface AppPasswordInfo {
  id: string;
  label: string;
  created: number;
  lastUsed: number | null;
}

const APP_PREFIX = 'pc2a';
const CACHE_MAX = 1024;

export class Accounts {
  /** sha256(app password) → id of a password already verified with scrypt (the row is re-read each time). */
  private readonly verified = new Map<string, string>();

  constructor(
    private readonly db: Db,
    private readonly store: FileStore,
    private readonly clock: Clock,
    private readonly sessionTtlMs: number,
  ) {
    if (!this.owner() && !db.meta('owner_code')) db.setMeta('owner_code', makeOwnerCode());
  }

  owner(): string | undefined {
    return this.db.get<{ address: string }>("SELECT address FROM wallets WHERE role = 'owner'")
      ?.address;
  }

  /** The one-time code that claims this node, or null once it has an owner. */
  ownerCode(): string | null {
    return this.owner() ? null : (this.db.meta('owner_code') ?? null);
  }

  /** Finds the role of a signed-in address; the first one to bring the owner code becomes owner. */
  admit(address: string, ownerCode: unknown): Role {
    return this.db.tx(() => {
      const known = this.store.wallet(address);
      if (known) return known.role;
      const code = this.ownerCode();
      if (code === null)
        throw new CloudError(
          'FORBIDDEN',
          'this wallet is not a member of this node; ask its owner to add it',
        );
      if (typeof ownerCode !== 'string' || !sameSecret(ownerCode.trim().toUpperCase(), code)) {
        throw new CloudError(
          'OWNER_CODE_REQUIRED',
          'this node has no owner yet: sign in with the one-time owner code that `pc2 node` printed',
        );
      }
      this.store.addWallet(address, 'owner');
      this.db.setMeta('owner_code', null);
      return 'owner';
    });
  }

  // ---- sessions ----

  createSession(address: string): { token: string; expires: number } {
    const token = randomToken(32);
    const expires = this.clock.now() + this.sessionTtlMs;
    this.db.run(
      'INSERT INTO sessions (id, wallet, created, expires) VALUES (?, ?, ?, ?)',
      sha256(token),
      address,
      this.clock.now(),
      expires,
    );
    return { token, expires };
  }

  session(token: string): Principal | undefined {
    const row = this.db.get<{ wallet: string; role: Role }>(
      'SELECT s.wallet, w.role FROM sessions s JOIN wallets w ON w.address = s.wallet WHERE s.id = ? AND s.expires > ?',
      sha256(token),
      this.clock.now(),
    );
    return row && { address: row.wallet, role: row.role, via: 'session' };
  }

  endSession(token: string): void {
    this.db.run('DELETE FROM sessions WHERE id = ?', sha256(token));
  }

  sweepSessions(): number {
    return this.db.changes('DELETE FROM sessions WHERE expires <= ?', this.clock.now());
  }

  // ---- members ----

  members(): {
    address: string;
    role: Role;
    addedAt: number;
    quotaBytes: number | null;
    usedBytes: number;
  }[] {
    return this.store.wallets().map((w) => ({
      address: w.address,
      role: w.role,
      addedAt: w.added_at,
      quotaBytes: w.quota_bytes,
      usedBytes: w.used_bytes,
    }));
  }

  addMember(address: string): void {
    const existing = this.store.wallet(address);
    if (existing)
      throw new CloudError(
        'ALREADY_EXISTS',
        `${address} is already ${existing.role === 'owner' ? 'the owner' : 'a member'}`,
      );
    this.store.addWallet(address, 'member');
  }

  removeMember(address: string): void {
    const existing = this.store.wallet(address);
    if (!existing) throw new CloudError('NOT_FOUND', `${address} is not a member`);
    if (existing.role === 'owner') throw new CloudError('FORBIDDEN', 'the owner cannot be removed');
    this.store.removeWallet(address);
    this.verified.clear();
  }

  // ---- app passwords ----

  async createAppPassword(
    address: string,
    label: string,
  ): Promise<{ id: string; password: string }> {
    const id = randomBytes(8).toString('hex');
    const password = `${APP_PREFIX}${id}${randomToken(32)}`;
    const hash = await hashPassword(password);
    this.db.run(
      'INSERT INTO app_passwords (id, wallet, label, hash, created) VALUES (?, ?, ?, ?, ?)',
      id,
      address,
      label,
      hash,
      this.clock.now(),
    );
    return { id, password };
  }

  appPasswords(address: string): AppPasswordInfo[] {
    return this.db
      .all<{ id: string; label: string; created: number; last_used: number | null }>(
        'SELECT id, label, created, last_used FROM app_passwords WHERE wallet = ? ORDER BY created',
        address,
      )
      .map((r) => ({ id: r.id, label: r.label, created: r.created, lastUsed: r.last_used }));
  }

  revokeAppPassword(address: string, id: string): void {
    if (
      this.db.changes('DELETE FROM app_passwords WHERE id = ? AND wallet = ?', id, address) === 0
    ) {
      throw new CloudError('NOT_FOUND', 'no such app password');
    }
    for (const [k, v] of this.verified) if (v === id) this.verified.delete(k);
  }

  /** Checks HTTP Basic credentials: user is the wallet address (or empty), password an app password. */
  async checkAppPassword(user: string, password: string): Promise<Principal | undefined> {
    if (!password.startsWith(APP_PREFIX) || password.length !== APP_PREFIX.length + 16 + 43)
      return undefined;
    const id = password.slice(APP_PREFIX.length, APP_PREFIX.length + 16);
    const row = this.db.get<{ wallet: string; hash: string; role: Role }>(
      'SELECT a.wallet, a.hash, w.role FROM app_passwords a JOIN wallets w ON w.address = a.wallet WHERE a.id = ?',
      id,
    );
    if (!row) return undefined;
    if (user !== '' && user.toLowerCase() !== row.wallet.toLowerCase()) return undefined;
    const key = sha256(password);
    if (this.verified.get(key) !== id) {
      if (!(await verifyPassword(password, row.hash))) return undefined;
      if (this.verified.size >= CACHE_MAX) this.verified.delete(this.verified.keys().next().value!);
      this.verified.set(key, id);
      this.db.run('UPDATE app_passwords SET last_used = ? WHERE id = ?', this.clock.now(), id);
    }
    return { address: row.wallet, role: row.role, via: 'app-password' };
  }
}

/** 20 characters of Crockford-like base32 in groups of 5: easy to read aloud and type. */
function makeOwnerCode(): string {
  const alphabet = 'ABCDEFGHJKMNPQRSTVWXYZ23456789';
  const bytes = randomBytes(20);
  const chars = [...bytes].map((b) => alphabet[b % alphabet.length]).join('');
  return chars.match(/.{5}/g)!.join('-');
}
