/**
 * The registry's durable state: every name's {@link NameState}, and the highest request seq seen
 * per (signer, name). Memory holds all of it; the append-only log under dataDir makes it survive a
 * crash. A change is visible to readers only once it is on disk.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { AppendLog } from './append-log.ts';
import type { DamagedRange } from './framing.ts';
import { describeState, type NameEntry, type NameState } from './state.ts';
import type { Logger } from './options.ts';

interface LogRecord {
  /** States with their versions. */
  s?: { v: number; st: NameState }[];
  /** Request seqs: [signer, name, seq]. */
  q?: [string, string, number][];
}

export interface StoreChange {
  states?: NameState[];
  seqs?: [signer: string, name: string, seq: number][];
}

export const LOG_FILE = 'registry.log';
const SNAPSHOT_CHUNK = 512;

/** Damage found in the log at the last start, and whether a peer has since sent everything it holds. */
export interface StoreDamage {
  /** Ranges of the log that failed their checksums: their records are lost here. */
  ranges: DamagedRange[];
  bytes: number;
  /** When it was found, ms since the epoch. */
  detectedAt: number;
  /** Peers (registrar ids) whose every name was pulled and merged since: what they held is back. */
  recoveredFrom: string[];
}

export class RegistryStore {
  readonly #log: AppendLog;
  readonly #entries = new Map<string, NameEntry>();
  readonly #seqs = new Map<string, number>();
  /** Owner id -> the names bound to it now (released ones not), for `namesOf`. */
  readonly #byOwner = new Map<string, Set<string>>();
  readonly #compactMinBytes: number;
  readonly #logger: Logger;
  #version = 0;
  #liveBytes = 0;
  #compacting: Promise<void> | null = null;
  /** Torn bytes dropped at the last start. */
  readonly droppedBytes: number;
  /** Damage found at the last start (null: none). */
  readonly damage: StoreDamage | null;

  private constructor(
    log: AppendLog,
    droppedBytes: number,
    damaged: DamagedRange[],
    compactMinBytes: number,
    logger: Logger,
  ) {
    this.#log = log;
    this.droppedBytes = droppedBytes;
    this.damage = damaged.length
      ? {
          ranges: damaged,
          bytes: damaged.reduce((n, r) => n + r.bytes, 0),
          detectedAt: Date.now(),
          recoveredFrom: [],
        }
      : null;
    this.#compactMinBytes = compactMinBytes;
    this.#logger = logger;
  }

  static open(
    dataDir: string,
    options: { compactMinBytes: number; logger: Logger },
  ): RegistryStore {
    mkdirSync(dataDir, { recursive: true });
    const { log, payloads, droppedBytes, damaged } = AppendLog.open(join(dataDir, LOG_FILE));
    const store = new RegistryStore(
      log,
      droppedBytes,
      damaged,
      options.compactMinBytes,
      options.logger,
    );
    for (const payload of payloads) {
      let record: LogRecord;
      try {
        record = JSON.parse(payload.toString('utf8')) as LogRecord;
      } catch {
        continue; // checksummed, so only a foreign file gets here
      }
      store.#apply(record);
    }
    store.#liveBytes = log.size;
    if (droppedBytes > 0)
      options.logger.warn('registry store: dropped a torn last write', { droppedBytes });
    if (store.damage)
      options.logger.error(
        'registry store: damaged log records skipped; their names are pulled again from the peers',
        {
          ranges: damaged.map((r) => `${r.bytes} bytes at ${r.offset}`).join(', '),
          recordsRead: payloads.length,
        },
      );
    return store;
  }

  #apply(record: LogRecord): void {
    for (const { v, st } of record.s ?? []) {
      const before = this.#entries.get(st.name);
      const entry = describeState(st, v);
      this.#entries.set(st.name, entry);
      this.#index(before, entry);
      if (v > this.#version) this.#version = v;
    }
    for (const [signer, name, seq] of record.q ?? []) this.#seqs.set(signer + '|' + name, seq);
  }

  /** Notes that every name `peer` holds was pulled and merged after the damage was found. */
  recoveredFrom(peer: string): void {
    if (this.damage && !this.damage.recoveredFrom.includes(peer)) {
      this.damage.recoveredFrom.push(peer);
      this.#logger.info('registry store: names of the damaged log records pulled again', { peer });
    }
  }

  #index(before: NameEntry | undefined, after: NameEntry): void {
    if (before && !before.state.released) {
      const names = this.#byOwner.get(before.binding.owner);
      names?.delete(before.binding.name);
      if (names?.size === 0) this.#byOwner.delete(before.binding.owner);
    }
    if (after.state.released) return;
    let names = this.#byOwner.get(after.binding.owner);
    if (!names) this.#byOwner.set(after.binding.owner, (names = new Set()));
    names.add(after.binding.name);
  }

  /** The names bound to `owner` now, sorted. */
  namesOf(owner: string): string[] {
    return [...(this.#byOwner.get(owner) ?? [])].sort();
  }

  get(name: string): NameEntry | undefined {
    return this.#entries.get(name);
  }

  get size(): number {
    return this.#entries.size;
  }

  get version(): number {
    return this.#version;
  }

  get logBytes(): number {
    return this.#log.size;
  }

  /** Why writes fail now (the log hit a write error), or null while they succeed. */
  get writeError(): Error | null {
    return this.#log.broken;
  }

  /** Every entry, in no particular order (for counts; do not hold on to the iterator). */
  entries(): IterableIterator<NameEntry> {
    return this.#entries.values();
  }

  get syncs(): number {
    return this.#log.syncs;
  }

  /** Highest request seq accepted from `signer` for `name`, -1 if none. */
  requestSeq(signer: string, name: string): number {
    return this.#seqs.get(signer + '|' + name) ?? -1;
  }

  /** Writes a change durably, then makes it visible; resolves with the new entries. */
  async commit(change: StoreChange): Promise<NameEntry[]> {
    const record: LogRecord = {};
    if (change.states?.length) record.s = change.states.map((st) => ({ v: ++this.#version, st }));
    if (change.seqs?.length) record.q = change.seqs;
    const payload = Buffer.from(JSON.stringify(record), 'utf8');
    await this.#log.append(payload, () => this.#apply(record));
    this.#maybeCompact();
    return (record.s ?? []).map(({ st }) => this.#entries.get(st.name)!);
  }

  /** Entries changed after `cursor`, in version order, at most `limit`. */
  changesSince(cursor: number, limit: number): { entries: NameEntry[]; cursor: number } {
    const changed: NameEntry[] = [];
    for (const entry of this.#entries.values()) if (entry.version > cursor) changed.push(entry);
    changed.sort((a, b) => a.version - b.version);
    const entries = changed.slice(0, limit);
    return { entries, cursor: entries.at(-1)?.version ?? cursor };
  }

  #maybeCompact(): void {
    const size = this.#log.size;
    if (this.#compacting || size < this.#compactMinBytes || size < 2 * this.#liveBytes) return;
    this.#compacting = this.compact()
      .catch((e: Error) =>
        this.#logger.error('registry store: compaction failed', { error: e.message }),
      )
      .finally(() => (this.#compacting = null));
  }

  /** Rewrites the log as one snapshot of the live state. */
  async compact(): Promise<void> {
    await this.#log.compact(() => this.#snapshot());
    this.#liveBytes = this.#log.size;
  }

  #snapshot(): Uint8Array[] {
    const out: Uint8Array[] = [];
    const entries = [...this.#entries.values()];
    for (let i = 0; i < entries.length; i += SNAPSHOT_CHUNK) {
      const s = entries.slice(i, i + SNAPSHOT_CHUNK).map((e) => ({ v: e.version, st: e.state }));
      out.push(Buffer.from(JSON.stringify({ s } satisfies LogRecord), 'utf8'));
    }
    const seqs = [...this.#seqs].map(([key, seq]) => {
      const bar = key.indexOf('|');
      return [key.slice(0, bar), key.slice(bar + 1), seq] as [string, string, number];
    });
    for (let i = 0; i < seqs.length; i += SNAPSHOT_CHUNK * 4) {
      out.push(
        Buffer.from(
          JSON.stringify({ q: seqs.slice(i, i + SNAPSHOT_CHUNK * 4) } satisfies LogRecord),
          'utf8',
        ),
      );
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.#compacting) await this.#compacting;
    await this.#log.close();
  }
}
