/**
 * File content as immutable blobs named by random ids, never by user paths: no user-supplied name
 * ever reaches the host filesystem, so traversal, symlinks and odd Unicode cannot escape a wallet.
 * A blob is written under tmp/, fsynced, renamed into blobs/<xx>/ and that directory fsynced before
 * the metadata row that references it is committed.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, mkdirSync, readdirSync, rmSync, type ReadStream } from 'node:fs';
import { open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { CloudError } from '../errors.ts';

export interface BlobRef {
  id: string;
  size: number;
}

/** Thrown by a byte limit while streaming: the upload would exceed the wallet's quota. */
export class LimitExceeded extends Error {}

export class BlobStore {
  readonly root: string;
  private readonly tmp: string;
  /** While a backup holds the store, freed blobs wait here instead of being unlinked. */
  private holds = 0;
  private readonly deferred = new Set<string>();

  constructor(dataDir: string) {
    this.root = join(dataDir, 'blobs');
    this.tmp = join(dataDir, 'tmp');
    // Half-written uploads of a previous run are never referenced: drop them.
    rmSync(this.tmp, { recursive: true, force: true });
    mkdirSync(this.tmp, { recursive: true });
    for (let i = 0; i < 256; i++)
      mkdirSync(join(this.root, i.toString(16).padStart(2, '0')), { recursive: true });
  }

  path(id: string): string {
    if (!/^[0-9a-f]{32}$/.test(id)) throw new CloudError('INTERNAL', 'bad blob id');
    return join(this.root, id.slice(0, 2), id);
  }

  newId(): string {
    return randomBytes(16).toString('hex');
  }

  tmpPath(name: string): string {
    return join(this.tmp, name);
  }

  /**
   * Streams source into a new durable blob; `limit` bytes at most (LimitExceeded past it). Chunks are
   * gathered into writes of up to 1 MiB, one write in flight, so the socket is read only as fast as
   * the disk takes it.
   */
  async write(source: AsyncIterable<Uint8Array>, limit: number): Promise<BlobRef> {
    const id = this.newId();
    const tmp = join(this.tmp, id);
    let size = 0;
    const fh = await open(tmp, 'wx');
    try {
      let batch: Uint8Array[] = [];
      let batchBytes = 0;
      for await (const chunk of source) {
        size += chunk.length;
        if (size > limit) throw new LimitExceeded();
        batch.push(chunk);
        batchBytes += chunk.length;
        if (batchBytes >= 1024 * 1024) {
          await writeAll(fh, batch);
          batch = [];
          batchBytes = 0;
        }
      }
      if (batch.length > 0) await writeAll(fh, batch);
      await fh.sync();
      await fh.close();
      await this.place(tmp, id);
      return { id, size };
    } catch (e) {
      await fh.close().catch(() => {});
      await rm(tmp, { force: true });
      throw e;
    }
  }

  /** Moves a finished temporary file (fsynced here) into the blob store under `id`. */
  async commitFile(tmp: string, id: string): Promise<void> {
    const fh = await open(tmp, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await this.place(tmp, id);
  }

  /** Renames an fsynced file into its shard and fsyncs the shard directory, so the name survives a crash. */
  private async place(tmp: string, id: string): Promise<void> {
    await rename(tmp, this.path(id));
    const dir = await open(join(this.root, id.slice(0, 2)), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }

  async size(id: string): Promise<number> {
    return (await stat(this.path(id))).size;
  }

  read(id: string, start?: number, end?: number): ReadStream {
    return createReadStream(this.path(id), { start, end, highWaterMark: 256 * 1024 });
  }

  async remove(id: string): Promise<void> {
    if (this.holds > 0) {
      this.deferred.add(id);
      return;
    }
    await rm(this.path(id), { force: true });
  }

  /** Keeps every blob file until the returned release is called (a backup streams a snapshot's blobs). */
  hold(): () => void {
    this.holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.holds > 0) return;
      for (const id of this.deferred) void rm(this.path(id), { force: true }).catch(() => {});
      this.deferred.clear();
    };
  }

  /**
   * Removes blob files no row references: left by a crash between a blob's rename and its commit.
   * Only files older than `olderThan` (this process's start) are considered, so a write in flight
   * is never touched. Yields between shards so the node keeps serving.
   */
  async collectOrphans(isReferenced: (id: string) => boolean, olderThan: number): Promise<number> {
    let removed = 0;
    for (let i = 0; i < 256; i++) {
      const shard = join(this.root, i.toString(16).padStart(2, '0'));
      for (const name of readdirSync(shard)) {
        if (/^[0-9a-f]{32}$/.test(name) && isReferenced(name)) continue;
        const info = await stat(join(shard, name)).catch(() => undefined);
        if (!info || info.mtimeMs >= olderThan) continue;
        await rm(join(shard, name), { force: true, recursive: false }).catch(() => {});
        removed++;
      }
      await new Promise((r) => setImmediate(r));
    }
    return removed;
  }

  /** Every blob file on disk (for an integrity check or a backup). */
  *list(): Generator<string> {
    for (let i = 0; i < 256; i++) {
      const shard = i.toString(16).padStart(2, '0');
      for (const name of readdirSync(join(this.root, shard))) yield name;
    }
  }
}

async function writeAll(fh: FileHandle, chunks: Uint8Array[]): Promise<void> {
  let pending = chunks;
  while (pending.length > 0) {
    let { bytesWritten } = await fh.writev(pending);
    const rest: Uint8Array[] = [];
    for (const c of pending) {
      if (bytesWritten >= c.length) bytesWritten -= c.length;
      else {
        rest.push(c.subarray(bytesWritten));
        bytesWritten = 0;
      }
    }
    pending = rest;
  }
}
