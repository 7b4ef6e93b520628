/**
 * The metadata database: one SQLite file in WAL mode with synchronous=FULL, so a commit is on disk
 * (not only in the page cache) before the request that caused it is acknowledged. File content lives
 * beside it as blobs (blobs.ts) that are fsynced before their row is committed.
 */
import { openDatabase, type Database, type SqlValue, type Statement } from '../runtime/sqlite.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS wallets (
  address TEXT PRIMARY KEY, role TEXT NOT NULL, added_at INTEGER NOT NULL,
  quota_bytes INTEGER, used_bytes INTEGER NOT NULL DEFAULT 0, root_id INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS nodes (
  id INTEGER PRIMARY KEY, wallet TEXT NOT NULL, parent_id INTEGER, name TEXT NOT NULL,
  dir INTEGER NOT NULL, blob TEXT, size INTEGER NOT NULL DEFAULT 0, mtime INTEGER NOT NULL,
  created INTEGER NOT NULL, type TEXT, etag TEXT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS nodes_child ON nodes(parent_id, name);
CREATE INDEX IF NOT EXISTS nodes_wallet ON nodes(wallet);
CREATE TABLE IF NOT EXISTS blobs (id TEXT PRIMARY KEY, size INTEGER NOT NULL, refs INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS versions (
  id INTEGER PRIMARY KEY, node_id INTEGER NOT NULL, blob TEXT NOT NULL, size INTEGER NOT NULL,
  mtime INTEGER NOT NULL, etag TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS versions_node ON versions(node_id, mtime);
CREATE TABLE IF NOT EXISTS trash (
  id INTEGER PRIMARY KEY, wallet TEXT NOT NULL, node_id INTEGER NOT NULL, path TEXT NOT NULL,
  deleted_at INTEGER NOT NULL, bytes INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS trash_wallet ON trash(wallet, deleted_at);
CREATE TABLE IF NOT EXISTS props (node_id INTEGER NOT NULL, ns TEXT NOT NULL, name TEXT NOT NULL, xml TEXT NOT NULL,
  PRIMARY KEY (node_id, ns, name));
CREATE TABLE IF NOT EXISTS locks (
  token TEXT PRIMARY KEY, wallet TEXT NOT NULL, path TEXT NOT NULL, infinite INTEGER NOT NULL,
  exclusive INTEGER NOT NULL, owner TEXT NOT NULL, principal TEXT NOT NULL, timeout_s INTEGER NOT NULL, expires INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS locks_wallet ON locks(wallet);
CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, wallet TEXT NOT NULL, created INTEGER NOT NULL, expires INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS nonces (nonce TEXT PRIMARY KEY, expires INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS app_passwords (
  id TEXT PRIMARY KEY, wallet TEXT NOT NULL, label TEXT NOT NULL, hash TEXT NOT NULL,
  created INTEGER NOT NULL, last_used INTEGER);
CREATE TABLE IF NOT EXISTS shares (
  id TEXT PRIMARY KEY, token_hash TEXT NOT NULL UNIQUE, wallet TEXT NOT NULL, node_id INTEGER NOT NULL,
  mode TEXT NOT NULL, password TEXT, expires INTEGER, revoked INTEGER NOT NULL DEFAULT 0, created INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS chat_conversations (
  id TEXT PRIMARY KEY, wallet TEXT NOT NULL, title TEXT NOT NULL, created INTEGER NOT NULL, updated INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS chat_conversations_wallet ON chat_conversations(wallet, updated);
CREATE TABLE IF NOT EXISTS chat_messages (
  id INTEGER PRIMARY KEY, conversation_id TEXT NOT NULL, role TEXT NOT NULL, content TEXT NOT NULL,
  created INTEGER NOT NULL, stopped INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS chat_messages_conversation ON chat_messages(conversation_id, id);
CREATE TABLE IF NOT EXISTS uploads (
  id TEXT PRIMARY KEY, wallet TEXT NOT NULL, path TEXT NOT NULL, length INTEGER NOT NULL,
  offset INTEGER NOT NULL, metadata TEXT NOT NULL, expires INTEGER NOT NULL, created INTEGER NOT NULL);
`;

export class Db {
  readonly raw: Database;
  private readonly cache = new Map<string, Statement>();
  private depth = 0;
  /** Called after a rollback, so in-memory state tied to the transaction can be dropped. */
  readonly onRollback: (() => void)[] = [];

  /**
   * `schema` defaults to the cloud's own; a derived database that can be rebuilt (the search index)
   * passes its own and `durable: false` (synchronous=NORMAL: a crash may lose its last commits).
   */
  constructor(path: string, opts: { schema?: string; durable?: boolean } = {}) {
    this.raw = openDatabase(path);
    this.raw.exec('PRAGMA journal_mode = WAL');
    this.raw.exec(`PRAGMA synchronous = ${opts.durable === false ? 'NORMAL' : 'FULL'}`);
    this.raw.exec('PRAGMA foreign_keys = OFF');
    this.raw.exec(opts.schema ?? SCHEMA);
  }

  q(sql: string): Statement {
    let s = this.cache.get(sql);
    if (!s) {
      s = this.raw.prepare(sql);
      this.cache.set(sql, s);
    }
    return s;
  }

  get<T>(sql: string, ...params: SqlValue[]): T | undefined {
    return this.q(sql).get(...params) as T | undefined;
  }

  all<T>(sql: string, ...params: SqlValue[]): T[] {
    return this.q(sql).all(...params) as T[];
  }

  run(sql: string, ...params: SqlValue[]): number {
    return Number(this.q(sql).run(...params).lastInsertRowid);
  }

  changes(sql: string, ...params: SqlValue[]): number {
    return Number(this.q(sql).run(...params).changes);
  }

  /** Runs fn in one transaction (nested calls join the outer one); synchronous by design. */
  tx<T>(fn: () => T): T {
    if (this.depth > 0) return fn();
    this.raw.exec('BEGIN IMMEDIATE');
    this.depth++;
    try {
      const result = fn();
      this.depth--;
      this.raw.exec('COMMIT');
      return result;
    } catch (e) {
      this.depth--;
      this.raw.exec('ROLLBACK');
      for (const hook of this.onRollback) hook();
      throw e;
    }
  }

  meta(key: string): string | undefined {
    return this.get<{ value: string }>('SELECT value FROM meta WHERE key = ?', key)?.value;
  }

  setMeta(key: string, value: string | null): void {
    if (value === null) this.run('DELETE FROM meta WHERE key = ?', key);
    else
      this.run(
        'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
        key,
        value,
      );
  }

  close(): void {
    this.raw.close();
  }
}
