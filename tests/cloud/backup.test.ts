import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cloudBackupCommand } from '../../cloud/backup/command.ts';
import {
  hasSqlite,
  ownedCloud,
  signIn,
  startCloud,
  wallet,
  type Session,
  type TestCloud,
} from './helpers.ts';

/** Every file of every wallet: path → sha256, plus versions, trash, shares and roles, for comparison. */
function inventory(c: TestCloud): Record<string, unknown> {
  const store = c.cloud.store;
  const files: Record<string, string> = {};
  const versions: Record<string, string[]> = {};
  for (const w of store.wallets()) {
    const walk = (names: string[]): void => {
      const node = store.resolve(w.address, names)!;
      for (const child of store.list(node)) {
        const p = [...names, child.name];
        const key = `${w.address}:/${p.join('/')}`;
        if (child.dir) walk(p);
        else {
          files[key] = child.blob
            ? createHash('sha256')
                .update(readFileSync(store.blobs.path(child.blob)))
                .digest('hex')
            : 'empty';
          versions[key] = store.versions(child).map((v) =>
            createHash('sha256')
              .update(readFileSync(store.blobs.path(store.versionBlob(child, v.id)!.blob)))
              .digest('hex'),
          );
        }
      }
    };
    walk([]);
  }
  const db = store.db;
  return {
    files,
    versions,
    trash: store
      .wallets()
      .map((w) => store.listTrash(w.address).map((t) => ({ path: t.path, bytes: t.bytes }))),
    roles: store
      .wallets()
      .map((w) => ({ address: w.address, role: w.role, quota: w.quota_bytes, used: w.used_bytes })),
    shares: db.all(
      'SELECT id, token_hash, wallet, node_id, mode, password, expires, revoked FROM shares ORDER BY id',
    ),
    appPasswords: db.all('SELECT id, wallet, hash FROM app_passwords ORDER BY id'),
    chats: db.all(
      'SELECT c.title, m.role, m.content FROM chat_conversations c JOIN chat_messages m ON m.conversation_id = c.id ORDER BY m.id',
    ),
  };
}

/** The archive's frames as [start, end) byte ranges (the format of cloud/backup/format.ts). */
function frames(
  archive: Buffer,
): { kind: string; name: string; start: number; dataStart: number; end: number }[] {
  const out = [];
  let p = 'PC2-CLOUD-BACKUP 1\n'.length;
  while (p < archive.length) {
    const start = p;
    const kind = String.fromCharCode(archive[p]);
    const nameLen = archive.readUInt32BE(p + 1);
    const name = archive.subarray(p + 5, p + 5 + nameLen).toString();
    const len = Number(archive.readBigUInt64BE(p + 5 + nameLen));
    const dataStart = p + 13 + nameLen;
    p = dataStart + len + 32;
    out.push({ kind, name, start, dataStart, end: p });
  }
  return out;
}

async function* chunks(b: Buffer, size = 65536): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
}

describe.skipIf(!hasSqlite)('cloud backup and restore', () => {
  let c: TestCloud;
  let owner: Session;
  let basic: string;
  let archive: Buffer;
  let shareToken: string;
  let before: Record<string, unknown>;
  const put = (s: Session, path: string, body: string | Buffer) =>
    s.fetch(`/dav${path}`, { method: 'PUT', body: new Uint8Array(Buffer.from(body)) });

  beforeAll(async () => {
    ({ c, owner, basic } = await ownedCloud());
    await owner.api('POST', '/api/members', { address: wallet(2).address, quotaBytes: 5_000_000 });
    const member = await signIn(c, wallet(2));
    await owner.api('POST', '/api/files/mkdir', { path: '/docs' });
    await put(owner, '/docs/a.txt', 'first');
    await put(owner, '/docs/a.txt', 'second');
    await put(owner, '/docs/big.bin', Buffer.alloc(3 * 1024 * 1024 + 17, 7));
    await put(owner, '/gone.txt', 'to the trash');
    await owner.api('POST', '/api/files/delete', { path: '/gone.txt' });
    await put(member, '/mine.txt', 'member content');
    await owner.api('POST', '/api/files/copy', { from: '/docs/a.txt', to: '/copy.txt' });
    shareToken = (
      await owner.api('POST', '/api/shares', { path: '/docs/a.txt', password: 'open sesame' })
    ).json.token;
    const conv = (await owner.api('POST', '/api/chat/conversations', { title: 'kept' })).json;
    c.cloud.chat.conversations.add(conv.id, { role: 'user', content: 'hello there' });
    before = inventory(c);
    const res = await owner.fetch('/api/admin/backup');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toMatch(
      /attachment; filename="pc2-cloud-.*\.pc2backup"/,
    );
    archive = Buffer.from(await res.arrayBuffer());
  });
  afterAll(() => c?.stop());

  it('is a streamed archive of the database and every blob, then the manifest', () => {
    const f = frames(archive);
    expect(f[0].kind).toBe('D');
    expect(f[f.length - 1].kind).toBe('M');
    expect(f[f.length - 1].end).toBe(archive.length);
    const manifest = JSON.parse(
      archive.subarray(f[f.length - 1].dataStart, f[f.length - 1].end - 32).toString(),
    );
    expect(manifest).toMatchObject({
      format: 'pc2-cloud-backup',
      version: 1,
      wallets: 2,
      blobs: f.length - 2,
    });
  });

  it('only the owner downloads one', async () => {
    const member = await signIn(c, wallet(2));
    expect((await member.fetch('/api/admin/backup')).status).toBe(403);
  });

  it('restores on a fresh node with identical files, versions, trash, shares, roles and app passwords', async () => {
    const fresh = await startCloud();
    try {
      const code = fresh.cloud.ownerCode()!;
      const res = await fetch(`${fresh.url}/api/admin/restore`, {
        method: 'POST',
        headers: { 'x-owner-code': code, origin: fresh.url },
        body: new Uint8Array(archive),
      });
      expect(res.status).toBe(200);
      expect((await res.json()).restored).toMatchObject({ wallets: 2 });
      expect(inventory(fresh)).toEqual(before);
      expect(fresh.cloud.ownerCode()).toBeNull();
      const o = await signIn(fresh, wallet(1));
      expect((await o.api('GET', '/api/me')).json.role).toBe('owner');
      expect((await signIn(fresh, wallet(2)).then((m) => m.api('GET', '/api/me'))).json.role).toBe(
        'member',
      );
      // The share link and the app password made before the backup still work.
      expect((await fetch(`${fresh.url}/s/${shareToken}`)).status).toBe(401);
      expect(
        await (
          await fetch(`${fresh.url}/s/${shareToken}`, {
            headers: { 'x-share-password': 'open sesame' },
          })
        ).text(),
      ).toBe('second');
      expect(
        (await fetch(`${fresh.url}/dav/docs/a.txt`, { headers: { authorization: basic } })).status,
      ).toBe(200);
      // The search index is rebuilt from the restored store.
      expect(
        (await o.api('GET', '/api/search?q=big')).json.results.map((r: any) => r.path),
      ).toEqual(['/docs/big.bin']);
    } finally {
      await fresh.stop();
    }
  });

  it('refuses corrupted, truncated, reordered or foreign archives and changes nothing', async () => {
    const target = await startCloud();
    try {
      const code = target.cloud.ownerCode()!;
      const restore = async (body: Buffer) => {
        const r = await fetch(`${target.url}/api/admin/restore`, {
          method: 'POST',
          headers: { 'x-owner-code': code, origin: target.url },
          body: new Uint8Array(body),
        });
        return { status: r.status, json: await r.json() };
      };
      const f = frames(archive);
      const big = f.find((x) => x.kind === 'B' && x.end - x.dataStart > 1_000_000)!;
      const flipped = Buffer.from(archive);
      flipped[big.dataStart + 123_456] ^= 1;
      const dropped = Buffer.concat([archive.subarray(0, big.start), archive.subarray(big.end)]);
      const db = f[0];
      const badDb = Buffer.from(archive);
      badDb[db.dataStart + 200] ^= 0xff;
      const cases: [string, Buffer, RegExp][] = [
        ['a flipped bit in a blob', flipped, /corrupted \(SHA-256 mismatch/],
        ['a flipped byte in the database', badDb, /the database is corrupted/],
        [
          'cut inside a blob',
          archive.subarray(0, big.dataStart + 1000),
          /truncated: it ends inside blob/,
        ],
        [
          'cut before the manifest',
          archive.subarray(0, f[f.length - 1].start),
          /ends without its manifest/,
        ],
        ['cut inside the manifest', archive.subarray(0, archive.length - 40), /truncated/],
        ['a frame dropped', dropped, /chain does not match/],
        [
          'bytes after the end',
          Buffer.concat([archive, Buffer.from('x')]),
          /bytes follow the manifest/,
        ],
        ['not a backup', Buffer.from('PK\u0003\u0004 a zip file'), /not a PC2 cloud backup/],
        ['empty', Buffer.alloc(0), /not a PC2 cloud backup/],
      ];
      for (const [what, body, message] of cases) {
        const r = await restore(body);
        expect(r.status, what).toBe(422);
        expect(r.json.error.code, what).toBe('INVALID_BACKUP');
        expect(r.json.error.message, what).toMatch(message);
        expect(target.cloud.ownerCode(), what).toBe(code);
        expect(target.cloud.store.wallets(), what).toEqual([]);
      }
    } finally {
      await target.stop();
    }
  });

  it('does not replace a node that has wallets unless asked', async () => {
    const res = await owner.fetch('/api/admin/restore', {
      method: 'POST',
      body: new Uint8Array(archive),
    });
    expect(res.status).toBe(409);
    expect(inventory(c)).toEqual(before);
  });

  it('works as the CLI command on a data directory, to and from a file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pc2-backup-cli-'));
    const io = { stdin: new PassThrough(), stdout: new PassThrough(), stderr: new PassThrough() };
    try {
      const src = join(dir, 'src');
      const file = join(dir, 'node.pc2backup');
      writeFileSync(join(dir, 'archive'), archive);
      expect(
        await cloudBackupCommand(
          { command: 'restore', dataDir: src, file: join(dir, 'archive') },
          io,
        ),
      ).toBe(0);
      expect(
        await cloudBackupCommand(
          { command: 'restore', dataDir: src, file: join(dir, 'archive') },
          io,
        ),
      ).toBe(1);
      expect(await cloudBackupCommand({ command: 'backup', dataDir: src, file }, io)).toBe(0);
      const dst = join(dir, 'dst');
      expect(await cloudBackupCommand({ command: 'restore', dataDir: dst, file }, io)).toBe(0);
      const restored = await startCloud({ dataDir: dst });
      try {
        expect(inventory(restored)).toEqual(before);
      } finally {
        await restored.stop();
      }
      expect(
        await cloudBackupCommand({ command: 'bogus' as 'backup', dataDir: dst, file }, io),
      ).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
