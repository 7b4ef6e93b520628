/**
 * The search index: its own SQLite file (search.db) beside the cloud's database, derived from it and
 * rebuilt from it at start when missing or stale, so it is written with synchronous=NORMAL and is
 * not part of a backup. File and folder names go into a trigram FTS5 table (substring matches, any
 * script), text content into a unicode61 one; both are keyed by the node id, which moves keep.
 */
import { Db } from '../storage/db.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS docs (node_id INTEGER PRIMARY KEY, wallet TEXT NOT NULL, name TEXT NOT NULL, etag TEXT NOT NULL, body INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS docs_wallet ON docs(wallet);
CREATE VIRTUAL TABLE IF NOT EXISTS names USING fts5(name, tokenize = 'trigram');
CREATE VIRTUAL TABLE IF NOT EXISTS bodies USING fts5(body, tokenize = 'unicode61 remove_diacritics 2');
`;

export interface IndexedDoc {
  node_id: number;
  wallet: string;
  name: string;
  etag: string;
  body: number;
}

export interface DocUpdate {
  nodeId: number;
  wallet: string;
  name: string;
  etag: string;
  /** The text content; null indexes the name only. undefined keeps the indexed content. */
  text?: string | null;
}

export interface Hit {
  nodeId: number;
  match: 'name' | 'content';
  snippet?: string;
}

/** A query's words, each quoted for FTS5 so no user input is read as query syntax. */
export function queryTerms(q: string): string[] {
  return q.normalize('NFC').split(/\s+/).filter(Boolean).slice(0, 16);
}
const quote = (t: string): string => `"${t.replace(/"/g, '""')}"`;

export class SearchDb {
  readonly db: Db;

  constructor(path: string) {
    this.db = new Db(path, { schema: SCHEMA, durable: false });
  }

  doc(nodeId: number): IndexedDoc | undefined {
    return this.db.get<IndexedDoc>('SELECT * FROM docs WHERE node_id = ?', nodeId);
  }

  /** Applies updates and removals in one transaction. */
  apply(updates: readonly DocUpdate[], removals: readonly number[] = []): void {
    if (updates.length === 0 && removals.length === 0) return;
    this.db.tx(() => {
      for (const id of removals) this.removeOne(id);
      for (const u of updates) {
        const old = this.doc(u.nodeId);
        const keepBody = u.text === undefined && old?.body === 1;
        if (old) {
          this.db.run('DELETE FROM names WHERE rowid = ?', u.nodeId);
          if (!keepBody) this.db.run('DELETE FROM bodies WHERE rowid = ?', u.nodeId);
        }
        this.db.run('INSERT INTO names (rowid, name) VALUES (?, ?)', u.nodeId, u.name);
        const hasText = typeof u.text === 'string' && u.text.length > 0;
        if (hasText)
          this.db.run('INSERT INTO bodies (rowid, body) VALUES (?, ?)', u.nodeId, u.text!);
        this.db.run(
          'INSERT INTO docs (node_id, wallet, name, etag, body) VALUES (?, ?, ?, ?, ?) ON CONFLICT(node_id) DO UPDATE SET wallet = excluded.wallet, name = excluded.name, etag = excluded.etag, body = excluded.body',
          u.nodeId,
          u.wallet,
          u.name,
          u.etag,
          keepBody || hasText ? 1 : 0,
        );
      }
    });
  }

  private removeOne(id: number): void {
    if (this.db.changes('DELETE FROM docs WHERE node_id = ?', id) === 0) return;
    this.db.run('DELETE FROM names WHERE rowid = ?', id);
    this.db.run('DELETE FROM bodies WHERE rowid = ?', id);
  }

  /** Node ids of a wallet's documents after `after`, in id order (for sweeps of deleted nodes). */
  ids(after: number, limit: number, wallet?: string): number[] {
    const rows =
      wallet === undefined
        ? this.db.all<{ node_id: number }>(
            'SELECT node_id FROM docs WHERE node_id > ? ORDER BY node_id LIMIT ?',
            after,
            limit,
          )
        : this.db.all<{ node_id: number }>(
            'SELECT node_id FROM docs WHERE wallet = ? AND node_id > ? ORDER BY node_id LIMIT ?',
            wallet,
            after,
            limit,
          );
    return rows.map((r) => r.node_id);
  }

  count(): number {
    return this.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM docs')!.n;
  }

  /**
   * Names containing every word (trigram substring match; words under 3 characters fall back to a
   * LIKE scan of the wallet's names), then contents holding every word as a prefix, best first.
   */
  query(wallet: string, q: string, limit: number): Hit[] {
    const terms = queryTerms(q);
    if (terms.length === 0) return [];
    const hits: Hit[] = [];
    const seen = new Set<number>();
    const nameRows = terms.every((t) => [...t].length >= 3)
      ? this.db.all<{ node_id: number }>(
          'SELECT d.node_id FROM names n JOIN docs d ON d.node_id = n.rowid WHERE names MATCH ? AND d.wallet = ? ORDER BY n.rank, length(d.name) LIMIT ?',
          terms.map(quote).join(' AND '),
          wallet,
          limit,
        )
      : this.db.all<{ node_id: number }>(
          `SELECT node_id FROM docs WHERE wallet = ? AND ${terms.map(() => "name LIKE ? ESCAPE '\\'").join(' AND ')} ORDER BY length(name) LIMIT ?`,
          wallet,
          ...terms.map((t) => `%${t.replace(/[\\%_]/g, (c) => '\\' + c)}%`),
          limit,
        );
    for (const r of nameRows) {
      seen.add(r.node_id);
      hits.push({ nodeId: r.node_id, match: 'name' });
    }
    if (hits.length < limit) {
      const rows = this.db.all<{ node_id: number; snippet: string }>(
        "SELECT d.node_id, snippet(bodies, 0, '', '', '…', 16) AS snippet FROM bodies b JOIN docs d ON d.node_id = b.rowid WHERE bodies MATCH ? AND d.wallet = ? ORDER BY b.rank LIMIT ?",
        terms.map((t) => `${quote(t)}*`).join(' AND '),
        wallet,
        limit,
      );
      for (const r of rows) {
        if (hits.length >= limit) break;
        if (seen.has(r.node_id)) continue;
        hits.push({ nodeId: r.node_id, match: 'content', snippet: r.snippet });
      }
    }
    return hits;
  }

  close(): void {
    this.db.close();
  }
}
