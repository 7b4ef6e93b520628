/**
 * Restores a backup (format.ts) into a staging directory beside the data directory, checks all of
 * it (every frame's SHA-256, the chain, the manifest's counts, SQLite's integrity check, every
 * referenced blob present with its size), fsyncs it, and only then swaps it in with two renames.
 * A corrupted or truncated archive is refused with the reason and leaves the data directory as it
 * was. The search index is not in the archive: the restored node rebuilds it at start.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { openDatabase } from '../runtime/sqlite.ts';
import { ByteReader, Chain, invalid, MAGIC, type Manifest } from './format.ts';

export interface RestoreSummary {
  wallets: number;
  files: number;
  blobs: number;
  blobBytes: number;
  createdAt: number;
}

/** Reads and checks an archive into `staging` (created); throws INVALID_BACKUP and removes it on any fault. */
export async function stageBackup(
  source: AsyncIterable<Uint8Array>,
  staging: string,
): Promise<RestoreSummary> {
  await mkdir(staging, { recursive: false, mode: 0o700 });
  try {
    return await readInto(new ByteReader(source), staging);
  } catch (e) {
    await rm(staging, { recursive: true, force: true });
    throw e;
  }
}

async function readInto(reader: ByteReader, staging: string): Promise<RestoreSummary> {
  const magic = await reader.exact(MAGIC.length, 'the header').catch(() => null);
  if (!magic || !magic.equals(MAGIC)) throw invalid('not a PC2 cloud backup (wrong header)');
  await mkdir(join(staging, 'blobs'));
  for (let i = 0; i < 256; i++)
    await mkdir(join(staging, 'blobs', i.toString(16).padStart(2, '0')));
  const chain = new Chain();
  const seen = new Set<string>();
  let database = false;
  let blobBytes = 0;
  for (;;) {
    const f = await reader.frame();
    if (!f) throw invalid('the archive ends without its manifest: it is truncated');
    if (f.kind === 'M') {
      if (f.length > 16 * 1024 * 1024)
        throw invalid('the manifest is implausibly large: corrupted');
      const body = (await reader.exact(f.length, 'the manifest')) ?? Buffer.alloc(0);
      const copy = Buffer.from(body);
      const sum = await reader.exact(32, 'the manifest checksum');
      if (!sum || !createHash('sha256').update(copy).digest().equals(sum))
        throw invalid('the manifest is corrupted (checksum mismatch)');
      let m: Manifest;
      try {
        m = JSON.parse(copy.toString('utf8'));
      } catch {
        throw invalid('the manifest is not JSON');
      }
      if (m.format !== 'pc2-cloud-backup' || m.version !== 1)
        throw invalid(`unsupported backup format ${m.format} version ${m.version}`);
      if (m.chain !== chain.hex())
        throw invalid(
          'frames are missing, repeated or out of order (the chain does not match the manifest)',
        );
      if (!database) throw invalid('the archive holds no database');
      if (m.blobs !== seen.size || m.blobBytes !== blobBytes)
        throw invalid(
          `the manifest lists ${m.blobs} blobs of ${m.blobBytes} bytes, the archive holds ${seen.size} of ${blobBytes}`,
        );
      if ((await reader.exact(1, 'the end')) !== null)
        throw invalid('bytes follow the manifest: corrupted');
      await checkDatabase(staging, seen);
      await syncTree(staging);
      return {
        wallets: m.wallets,
        files: m.files,
        blobs: m.blobs,
        blobBytes: m.blobBytes,
        createdAt: m.createdAt,
      };
    }
    let path: string;
    if (f.kind === 'D') {
      if (database || f.name !== 'cloud.db') throw invalid(`unexpected database frame "${f.name}"`);
      database = true;
      path = join(staging, 'cloud.db');
    } else {
      if (!/^[0-9a-f]{32}$/.test(f.name) || seen.has(f.name))
        throw invalid(`bad or repeated blob name "${f.name.slice(0, 64)}"`);
      seen.add(f.name);
      blobBytes += f.length;
      path = join(staging, 'blobs', f.name.slice(0, 2), f.name);
    }
    const hash = createHash('sha256');
    const fh = await open(path, 'wx', 0o600);
    try {
      await reader.pipe(
        f.length,
        `${f.kind === 'D' ? 'the database' : `blob ${f.name}`}`,
        async (chunk) => {
          hash.update(chunk);
          await writeAll(fh, chunk);
        },
      );
      await fh.sync();
    } finally {
      await fh.close();
    }
    const sum = await reader.exact(32, `the checksum of ${f.name}`);
    const digest = hash.digest();
    if (!sum || !digest.equals(sum))
      throw invalid(
        `${f.kind === 'D' ? 'the database' : `blob ${f.name}`} is corrupted (SHA-256 mismatch at byte ${reader.offset - 32})`,
      );
    chain.add(f.kind, f.name, f.length, digest);
  }
}

async function writeAll(fh: FileHandle, chunk: Buffer): Promise<void> {
  for (let off = 0; off < chunk.length; )
    off += (await fh.write(chunk, off, chunk.length - off)).bytesWritten;
}

/** SQLite's own integrity check, and every blob the database references present with its size. */
async function checkDatabase(staging: string, present: Set<string>): Promise<void> {
  const db = openDatabase(join(staging, 'cloud.db'));
  try {
    const ok = db
      .prepare('PRAGMA integrity_check')
      .all()
      .map((r) => Object.values(r)[0]);
    if (ok.length !== 1 || ok[0] !== 'ok')
      throw invalid(`the database fails SQLite's integrity check: ${String(ok[0]).slice(0, 200)}`);
    for (const row of db.prepare('SELECT id, size FROM blobs').iterate()) {
      const id = String(row.id);
      if (!present.has(id))
        throw invalid(`the database references blob ${id}, which the archive does not hold`);
      const size = (await stat(join(staging, 'blobs', id.slice(0, 2), id))).size;
      if (size !== Number(row.size))
        throw invalid(`blob ${id} has ${size} bytes, the database says ${row.size}`);
    }
  } catch (e) {
    if (e instanceof Error && e.name === 'CloudError') throw e;
    throw invalid(`the database cannot be read: ${(e as Error).message}`);
  } finally {
    db.close();
  }
}

async function fsyncDir(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function syncTree(staging: string): Promise<void> {
  for (const shard of readdirSync(join(staging, 'blobs')))
    await fsyncDir(join(staging, 'blobs', shard));
  await fsyncDir(join(staging, 'blobs'));
  await fsyncDir(staging);
}

/** A staging directory beside `dataDir` (same filesystem, so the swap is a rename). */
export function stagingPath(dataDir: string, what: 'restore' | 'old'): string {
  return join(dirname(dataDir), `.${basename(dataDir)}.${what}-${randomBytes(6).toString('hex')}`);
}

/**
 * Puts a checked staging directory in place of the data directory: the old one is renamed aside,
 * the staging one renamed in, the parent fsynced, then the old one removed. A crash between the two
 * renames leaves both directories intact beside each other (see docs/cloud.md).
 */
export async function swapIn(staging: string, dataDir: string): Promise<void> {
  const old = existsSync(dataDir) ? stagingPath(dataDir, 'old') : undefined;
  if (old) await rename(dataDir, old);
  try {
    await rename(staging, dataDir);
  } catch (e) {
    if (old) await rename(old, dataDir);
    throw e;
  }
  await fsyncDir(dirname(dataDir));
  if (old) await rm(old, { recursive: true, force: true });
}

/** True when a data directory holds a cloud with wallets (restoring over it needs `replace`). */
export function hasData(dataDir: string): boolean {
  if (!existsSync(join(dataDir, 'cloud.db'))) return false;
  const db = openDatabase(join(dataDir, 'cloud.db'));
  try {
    return (
      Number(
        db.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'wallets'").get()!.n,
      ) > 0 && Number(db.prepare('SELECT COUNT(*) AS n FROM wallets').get()!.n) > 0
    );
  } finally {
    db.close();
  }
}
