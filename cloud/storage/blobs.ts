/**
 * File content as immutable blobs named by random ids, never by user paths: no user-supplied name
 * ever reaches the host filesystem, so traversal, symlinks and odd Unicode cannot escape a wallet.
 * A blob is written under tmp/, fsynced, renamed into blobs/<xx>/ and that directory fsynced before
 * the metadata row that references it is committed.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, readdirSync, rmSync, type ReadStream } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
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

  constructor(dataDir: string) {
    this.root = join(dataDir, 'blobs');
    this.tmp = join(dataDir, 'tmp');
    // Half-written uploads of a previous run are never referenced: drop them.
    rmSync(this.tmp, { recursive: true, force: true });
    mkdirSync(this.tmp, { recursive: true });
    for (let i = 0; i < 256; i++) mkdirSync(join(this.root, i.toString(16).padStart(2, '0')), { recursive: true });
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

  /** Streams source into a new durable blob; `limit` bytes at most (LimitExceeded past it). */
  async write(source: Readable | AsyncIterable<Uint8Array>, limit: number): Promise<BlobRef> {
    const id = this.newId();
    const tmp = join(this.tmp, id);
    let size = 0;
    try {
      const out = createWriteStream(tmp, { flags: 'wx', highWaterMark: 1024 * 1024 });
      await pipeline(
        source,
        async function* (chunks: AsyncIterable<Uint8Array>) {
          for await (const chunk of chunks) {
            size += chunk.length;
            if (size > limit) throw new LimitExceeded();
            yield chunk;
          }
        },
        out,
      );
      await this.commitFile(tmp, id);
      return { id, size };
    } catch (e) {
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
    const final = this.path(id);
    await rename(tmp, final);
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
    await rm(this.path(id), { force: true });
  }

  /** Every blob file on disk (for an integrity check or a backup). */
  *list(): Generator<string> {
    for (let i = 0; i < 256; i++) {
      const shard = i.toString(16).padStart(2, '0');
      for (const name of readdirSync(join(this.root, shard))) yield name;
    }
  }
}
