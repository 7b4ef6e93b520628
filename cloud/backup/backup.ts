/**
 * Writes a backup of every wallet: a consistent snapshot of the database (VACUUM INTO, taken while
 * the node serves), then every blob it references, then the manifest (format.ts). Blob deletions
 * are held while the backup runs, so content referenced by the snapshot cannot vanish under it;
 * blobs are immutable, so copying them while the node serves is safe. Memory stays flat: blobs are
 * read and hashed a chunk at a time and the consumer's backpressure paces the reads.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { openDatabase } from '../runtime/sqlite.ts';
import type { BlobStore } from '../storage/blobs.ts';
import type { Db } from '../storage/db.ts';
import { Chain, frameHead, MAGIC, type FrameKind, type Manifest } from './format.ts';

/** Tables whose rows do not outlive the process or are not in the archive (partial uploads, locks). */
const TRANSIENT = ['sessions', 'nonces', 'locks', 'uploads'];

export interface BackupSource {
  db: Db;
  blobs: BlobStore;
  dataDir: string;
  clock: { now(): number };
}

export async function* backupStream(src: BackupSource): AsyncGenerator<Buffer> {
  const release = src.blobs.hold();
  const snapshot = join(src.dataDir, 'tmp', `backup-${randomBytes(8).toString('hex')}.db`);
  try {
    src.db.raw.exec(`VACUUM INTO '${snapshot.replace(/'/g, "''")}'`);
    const snap = openDatabase(snapshot);
    let blobs: { id: string; size: number }[];
    let counts: { wallets: number; files: number };
    try {
      for (const t of TRANSIENT) snap.exec(`DELETE FROM ${t}`);
      snap.exec('VACUUM');
      blobs = snap.prepare('SELECT id, size FROM blobs ORDER BY id').all() as {
        id: string;
        size: number;
      }[];
      counts = {
        wallets: Number(snap.prepare('SELECT COUNT(*) AS n FROM wallets').get()!.n),
        files: Number(snap.prepare('SELECT COUNT(*) AS n FROM nodes WHERE dir = 0').get()!.n),
      };
    } finally {
      snap.close();
    }
    const chain = new Chain();
    yield Buffer.from(MAGIC);
    yield* fileFrame('D', 'cloud.db', snapshot, (await stat(snapshot)).size, chain);
    let blobBytes = 0;
    for (const b of blobs) {
      yield* fileFrame('B', b.id, src.blobs.path(b.id), b.size, chain);
      blobBytes += b.size;
    }
    const manifest: Manifest = {
      format: 'pc2-cloud-backup',
      version: 1,
      createdAt: src.clock.now(),
      ...counts,
      blobs: blobs.length,
      blobBytes,
      chain: chain.hex(),
    };
    const body = Buffer.from(JSON.stringify(manifest), 'utf8');
    yield frameHead('M', 'manifest.json', body.length);
    yield body;
    yield createHash('sha256').update(body).digest();
  } finally {
    await rm(snapshot, { force: true });
    release();
  }
}

async function* fileFrame(
  kind: FrameKind,
  name: string,
  path: string,
  size: number,
  chain: Chain,
): AsyncGenerator<Buffer> {
  const actual = (await stat(path)).size;
  if (actual !== size)
    throw new Error(`blob ${name} has ${actual} bytes on disk, the database says ${size}`);
  yield frameHead(kind, name, size);
  const hash = createHash('sha256');
  let seen = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) {
    hash.update(chunk as Buffer);
    seen += (chunk as Buffer).length;
    yield chunk as Buffer;
  }
  if (seen !== size) throw new Error(`blob ${name} changed size while it was read`);
  const sum = hash.digest();
  chain.add(kind, name, size, sum);
  yield sum;
}
