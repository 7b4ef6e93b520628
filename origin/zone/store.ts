/**
 * The zone's records on this super node: one per key (a super node's heartbeat, a signer's challenge
 * for a name, the certificate), the newest winning. Challenges and the certificate are written to
 * `zone.json` before a put resolves (an acknowledged publication survives a crash); heartbeats are
 * not: they are re-sent every few seconds and are only worth their age.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../shared/logger.ts';
import { writeFileAtomic } from './atomic-file.ts';
import {
  compareRecords,
  type VerifyContext,
  verifyItem,
  type ZoneItem,
  type ZoneRecord,
} from './records.ts';

export const ZONE_FILE = 'zone.json';

export interface StoredRecord {
  record: ZoneRecord;
  /** Local change counter: replication cursors refer to it. */
  version: number;
  /** Local time this record (this seq) arrived: liveness is measured from it, not from the signer's clock. */
  receivedAt: number;
}

export type ChangeListener = (changed: StoredRecord, local: boolean) => void;

export class ZoneStore {
  readonly #entries = new Map<string, StoredRecord>();
  readonly #file: string;
  readonly #maxRecords: number;
  readonly #logger: Logger;
  #version = 0;
  #writing: Promise<void> | null = null;
  #dirty = false;
  readonly #listeners: ChangeListener[] = [];

  constructor(dataDir: string, options: { maxRecords: number; logger: Logger }) {
    this.#file = join(dataDir, ZONE_FILE);
    this.#maxRecords = options.maxRecords;
    this.#logger = options.logger;
  }

  /** Loads `zone.json`, verifying every record again (one that no longer verifies or has expired is dropped). */
  async load(ctx: VerifyContext, now: number): Promise<void> {
    let items: unknown[] = [];
    try {
      const parsed = JSON.parse(readFileSync(this.#file, 'utf8')) as { items?: unknown };
      if (Array.isArray(parsed.items)) items = parsed.items;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
        this.#logger.warn('zone store: unreadable zone.json ignored', {
          error: (e as Error).message,
        });
    }
    for (const item of items) {
      const checked = await verifyItem(item, ctx);
      if (!checked.ok || isExpired(checked.record, now)) continue;
      const known = this.#entries.get(checked.record.key);
      if (!known || compareRecords(checked.record, known.record) > 0)
        this.#set(checked.record, now);
    }
  }

  onChange(listener: ChangeListener): void {
    this.#listeners.push(listener);
  }

  get version(): number {
    return this.#version;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: string): StoredRecord | undefined {
    return this.#entries.get(key);
  }

  values(): IterableIterator<StoredRecord> {
    return this.#entries.values();
  }

  #set(record: ZoneRecord, now: number): StoredRecord {
    const stored = { record, version: ++this.#version, receivedAt: now };
    this.#entries.set(record.key, stored);
    return stored;
  }

  /**
   * Stores a verified record if it supersedes the one under its key; resolves once it is durable
   * (challenges, certificate). Returns false when it was not newer.
   */
  async put(record: ZoneRecord, now: number, local: boolean): Promise<boolean> {
    const known = this.#entries.get(record.key);
    if (known && compareRecords(record, known.record) <= 0) return false;
    if (!known && this.#entries.size >= this.#maxRecords) {
      this.prune(now);
      if (this.#entries.size >= this.#maxRecords)
        throw new RangeError(`the zone holds its maximum of ${this.#maxRecords} records`);
    }
    const stored = this.#set(record, now);
    if (record.kind !== 'heartbeat') await this.#persist();
    for (const listener of this.#listeners) listener(stored, local);
    return true;
  }

  /** Records changed after `cursor`, in version order, at most `limit`. */
  changesSince(
    cursor: number,
    limit: number,
  ): { items: ZoneItem[]; cursor: number; more: boolean } {
    const changed = [...this.#entries.values()]
      .filter((s) => s.version > cursor)
      .sort((a, b) => a.version - b.version);
    const page = changed.slice(0, limit);
    return {
      items: page.map((s) => s.record.item),
      cursor: page.at(-1)?.version ?? cursor,
      more: changed.length > limit,
    };
  }

  /** Drops expired challenges and certificates and heartbeats silent for a day. */
  prune(now: number): void {
    for (const [key, stored] of this.#entries) {
      if (
        isExpired(stored.record, now) ||
        (stored.record.kind === 'heartbeat' && now - stored.receivedAt > 24 * 3600_000)
      ) {
        this.#entries.delete(key);
      }
    }
  }

  /** Writes every persisted record; writes asked for while one runs share the next one. */
  #persist(): Promise<void> {
    this.#dirty = true;
    if (!this.#writing) {
      this.#writing = (async () => {
        while (this.#dirty) {
          this.#dirty = false;
          const items = [...this.#entries.values()]
            .filter((s) => s.record.kind !== 'heartbeat')
            .map((s) => s.record.item);
          await writeFileAtomic(this.#file, JSON.stringify({ items }));
        }
      })().finally(() => (this.#writing = null));
      this.#writing.catch((e: Error) =>
        this.#logger.error('zone store: cannot write zone.json', { error: e.message }),
      );
    }
    // The running write loops while dirty; if it had just finished its loop, the flag is still set.
    return this.#writing.then(() => (this.#dirty ? this.#persist() : undefined));
  }

  async close(): Promise<void> {
    await this.#writing?.catch(() => {});
  }
}

export function isExpired(record: ZoneRecord, now: number): boolean {
  if (record.kind === 'challenge') return record.payload.exp <= now;
  if (record.kind === 'certificate') return record.payload.notAfter <= now;
  return false;
}
