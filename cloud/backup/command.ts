/**
 * `pc2 cloud backup|restore` as a function the CLI mounts once its relayout lands: it takes the
 * parsed arguments and the output streams and returns the exit code (0 done, 1 refused or failed,
 * 2 bad usage). It works on a data directory no running node holds (the node's own lock says so);
 * a running node is backed up from its owner's page or `GET /api/admin/backup`.
 */
import { createReadStream, createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { CloudError } from '../errors.ts';
import { lockDataDir } from '../runtime/data-lock.ts';
import { BlobStore } from '../storage/blobs.ts';
import { Db } from '../storage/db.ts';
import { backupStream } from './backup.ts';
import { hasData, stageBackup, stagingPath, swapIn } from './restore.ts';

export interface CloudBackupArgs {
  command: 'backup' | 'restore';
  /** The node's cloud data directory. */
  dataDir: string;
  /** The archive to write (backup) or read (restore); "-" for stdout/stdin. */
  file: string;
  /** Restore over a node that has wallets. */
  replace?: boolean;
}

export interface CommandIo {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export async function cloudBackupCommand(args: CloudBackupArgs, io: CommandIo): Promise<number> {
  if ((args.command !== 'backup' && args.command !== 'restore') || !args.dataDir || !args.file) {
    io.stderr.write(
      'usage: pc2 cloud backup --data-dir DIR --out FILE|-   or   pc2 cloud restore --data-dir DIR --in FILE|- [--replace]\n',
    );
    return 2;
  }
  try {
    if (args.command === 'backup') await backup(args, io);
    else await restore(args, io);
    return 0;
  } catch (e) {
    io.stderr.write(`pc2 cloud ${args.command}: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

async function backup(args: CloudBackupArgs, io: CommandIo): Promise<void> {
  if (!existsSync(join(args.dataDir, 'cloud.db')))
    throw new Error(`${args.dataDir} holds no cloud (no cloud.db)`);
  const unlock = lockDataDir(args.dataDir);
  const db = new Db(join(args.dataDir, 'cloud.db'));
  try {
    const source = Readable.from(
      backupStream({
        db,
        blobs: new BlobStore(args.dataDir),
        dataDir: args.dataDir,
        clock: { now: () => Date.now() },
      }),
    );
    if (args.file === '-') {
      await pipeline(source, io.stdout, { end: false });
      return;
    }
    // Written beside the target and renamed when complete: a failed backup leaves no file that looks whole.
    const partial = `${args.file}.partial`;
    try {
      await pipeline(source, createWriteStream(partial, { flags: 'wx', mode: 0o600 }));
      await rename(partial, args.file);
    } catch (e) {
      await rm(partial, { force: true });
      throw e;
    }
    io.stderr.write(`backup written to ${args.file}\n`);
  } finally {
    db.close();
    unlock();
  }
}

async function restore(args: CloudBackupArgs, io: CommandIo): Promise<void> {
  mkdirSync(args.dataDir, { recursive: true, mode: 0o700 });
  const lock = lockDataDir(args.dataDir);
  let locked = true;
  const unlock = (): void => {
    if (locked) lock();
    locked = false;
  };
  try {
    if (!args.replace && hasData(args.dataDir))
      throw new CloudError(
        'CONFLICT',
        `${args.dataDir} already holds wallets: restore into a fresh directory, or add --replace`,
      );
    const staging = stagingPath(args.dataDir, 'restore');
    const source =
      args.file === '-' ? io.stdin : createReadStream(args.file, { highWaterMark: 1024 * 1024 });
    const summary = await stageBackup(source as AsyncIterable<Uint8Array>, staging);
    unlock();
    await swapIn(staging, args.dataDir);
    io.stderr.write(
      `restored ${summary.wallets} wallets, ${summary.files} files, ${summary.blobs} blobs (${summary.blobBytes} bytes) from a backup of ${new Date(summary.createdAt).toISOString()}\n`,
    );
  } finally {
    unlock();
  }
}
