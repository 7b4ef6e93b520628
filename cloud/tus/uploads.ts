/**
 * tus 1.0 upload state: a row per upload (offset, length, target path, expiry) and its partial
 * bytes in uploads/<id>. The offset is committed only after the bytes are fsynced, so after a crash
 * the server never claims more than it has; a chunk that fails its checksum is cut off again.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { CloudError } from '../errors.ts';
import type { CloudLimits, Clock } from '../options.ts';
import type { BlobStore } from '../storage/blobs.ts';
import type { Db } from '../storage/db.ts';
import { joinPath } from '../storage/paths.ts';
import type { FileStore } from '../storage/store.ts';

export const TUS_PREFIX = '/tus';

export interface Upload {
  id: string;
  wallet: string;
  path: string;
  length: number;
  offset: number;
  metadata: string;
  expires: number;
  created: number;
}

export class TusUploads {
  readonly dir: string;
  private readonly busy = new Set<string>();

  constructor(
    private readonly db: Db,
    private readonly store: FileStore,
    private readonly blobs: BlobStore,
    dataDir: string,
    private readonly clock: Clock,
    private readonly limits: CloudLimits,
  ) {
    this.dir = join(dataDir, 'uploads');
    mkdirSync(this.dir, { recursive: true });
  }

  private file(id: string): string {
    return join(this.dir, id);
  }

  async create(wallet: string, names: string[], length: number, metadata: string): Promise<Upload> {
    // Unfinished uploads hold their room, so parallel uploads cannot together overrun the quota.
    const pending =
      this.db.get<{ n: number | null }>(
        'SELECT SUM(length) AS n FROM uploads WHERE wallet = ?',
        wallet,
      )!.n ?? 0;
    if (length > this.store.room(wallet) - pending)
      throw new CloudError(
        'QUOTA_EXCEEDED',
        'the wallet is out of space (counting unfinished uploads)',
      );
    const id = randomBytes(16).toString('hex');
    const fh = await open(this.file(id), 'wx');
    await fh.close();
    const now = this.clock.now();
    const upload: Upload = {
      id,
      wallet,
      path: joinPath(names),
      length,
      offset: 0,
      metadata,
      expires: now + this.limits.uploadExpiryMs,
      created: now,
    };
    this.db.run(
      'INSERT INTO uploads (id, wallet, path, length, offset, metadata, expires, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      id,
      wallet,
      upload.path,
      length,
      0,
      metadata,
      upload.expires,
      now,
    );
    return upload;
  }

  get(wallet: string, id: string): Upload {
    const u = /^[0-9a-f]{32}$/.test(id)
      ? this.db.get<Upload>('SELECT * FROM uploads WHERE id = ? AND wallet = ?', id, wallet)
      : undefined;
    if (!u) throw new CloudError('NOT_FOUND', 'no such upload');
    if (u.expires <= this.clock.now()) throw new CloudError('GONE', 'this upload has expired');
    return u;
  }

  /**
   * Appends the body at the upload's offset. Keeps what arrived even when the client goes away
   * mid-chunk (so it can resume there), unless a checksum was given and does not match.
   */
  async append(
    u: Upload,
    body: Readable,
    checksum?: { algorithm: string; digest: string },
  ): Promise<Upload> {
    if (this.busy.has(u.id))
      throw new CloudError('LOCKED', 'another request is writing this upload');
    this.busy.add(u.id);
    let fh;
    try {
      fh = await open(this.file(u.id), 'r+');
    } catch (e) {
      this.busy.delete(u.id);
      throw e;
    }
    let written = 0;
    let failure: unknown;
    const hash = checksum ? createHash(checksum.algorithm) : undefined;
    try {
      for await (const chunk of body) {
        const buf = chunk as Buffer;
        if (u.offset + written + buf.length > u.length)
          throw new CloudError('BAD_REQUEST', 'the body goes past Upload-Length');
        hash?.update(buf);
        let done = 0;
        while (done < buf.length)
          done += (await fh.write(buf, done, buf.length - done, u.offset + written + done))
            .bytesWritten;
        written += buf.length;
      }
    } catch (e) {
      failure = e;
    }
    try {
      if (hash && (failure || hash.digest('base64') !== checksum!.digest)) {
        await fh.truncate(u.offset);
        throw (
          failure ?? new CloudError('CHECKSUM_MISMATCH', 'Upload-Checksum does not match the body')
        );
      }
      await fh.sync();
      const offset = u.offset + written;
      const expires = this.clock.now() + this.limits.uploadExpiryMs;
      this.db.run('UPDATE uploads SET offset = ?, expires = ? WHERE id = ?', offset, expires, u.id);
      if (failure) throw failure;
      return { ...u, offset, expires };
    } finally {
      await fh.close().catch(() => {});
      this.busy.delete(u.id);
    }
  }

  /** Turns a complete upload into the file at its path (a new version if it existed). */
  async finish(u: Upload): Promise<void> {
    const names = u.path.split('/').filter(Boolean);
    this.store.mkdirp(u.wallet, names.slice(0, -1));
    const blobId = this.blobs.newId();
    await this.blobs.commitFile(this.file(u.id), blobId);
    try {
      this.store.db.tx(() => {
        this.store.commitFile(u.wallet, names, { id: blobId, size: u.length });
        this.db.run('DELETE FROM uploads WHERE id = ?', u.id);
      });
    } catch (e) {
      await this.blobs.remove(blobId);
      this.db.run('DELETE FROM uploads WHERE id = ?', u.id);
      throw e;
    }
  }

  async terminate(u: Upload): Promise<void> {
    if (this.busy.has(u.id))
      throw new CloudError('LOCKED', 'another request is writing this upload');
    this.db.run('DELETE FROM uploads WHERE id = ?', u.id);
    await rm(this.file(u.id), { force: true });
  }

  /** Deletes uploads not written to within the expiry time. */
  async sweep(): Promise<number> {
    const rows = this.db.all<{ id: string }>(
      'SELECT id FROM uploads WHERE expires <= ?',
      this.clock.now(),
    );
    for (const r of rows) {
      if (this.busy.has(r.id)) continue;
      this.db.run('DELETE FROM uploads WHERE id = ?', r.id);
      await rm(this.file(r.id), { force: true });
    }
    return rows.length;
  }
}
