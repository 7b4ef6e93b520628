import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChangeEvent } from '../../cloud/index.ts';
import { thinVersions } from '../../cloud/storage/thinning.ts';
import { hasSqlite, ownedCloud, raw, type TestCloud } from './helpers.ts';

const DAY = 24 * 3600_000;

describe('version thinning schedule (Nextcloud)', () => {
  it('keeps one per second for 10 s, per minute for an hour, per hour for a day, per day for 30 days, per week after', () => {
    const now = 1_000_000_000_000;
    const ages = [
      100,
      400,
      900,
      1500,
      1600,
      9_000, // first 10 s: slots 0,0,0,1,1,9
      20_000,
      50_000,
      70_000, // first hour: slots 0,0,1
      2 * 3600_000,
      2.5 * 3600_000,
      5 * 3600_000, // first day: slots 2,2,5
      3 * DAY,
      3.5 * DAY,
      10 * DAY, // 30 days: slots 3,3,10
      40 * DAY,
      41 * DAY,
      50 * DAY, // after: weeks 5,5,7
    ];
    const versions = ages.map((age, i) => ({ id: i, mtime: now - age }));
    const dropped = thinVersions(versions, now).map((i) => ages[i]);
    expect(dropped).toEqual([400, 900, 1600, 50_000, 2.5 * 3600_000, 3.5 * DAY, 41 * DAY]);
  });
});

describe.skipIf(!hasSqlite)('cloud trash, versions and quotas', () => {
  const clock = {
    t: Date.now(),
    now() {
      return this.t;
    },
  };
  const events: ChangeEvent[] = [];
  let c: TestCloud;
  let auth: Record<string, string>;
  let wallet: string;
  const json = async (method: string, path: string, body?: unknown) => {
    const r = await raw(
      c,
      method,
      path,
      { ...auth, 'content-type': 'application/json' },
      body === undefined ? (method === 'GET' ? undefined : '') : JSON.stringify(body),
    );
    return { status: r.status, json: r.body ? JSON.parse(r.body) : undefined };
  };

  beforeAll(async () => {
    const owned = await ownedCloud({
      clock,
      limits: { quotaBytes: 1_000_000 },
      onChange: (e) => events.push(e),
    });
    c = owned.c;
    auth = { authorization: owned.basic };
    wallet = owned.owner.address;
  });
  afterAll(() => c.stop());

  it('restores a deleted folder to its original path, recreating missing parents and avoiding name clashes', async () => {
    await json('POST', '/api/files/mkdir', { path: '/docs' });
    await json('POST', '/api/files/mkdir', { path: '/docs/a' });
    await raw(c, 'PUT', '/dav/docs/a/b.txt', auth, 'bee');
    const fileTrash = (await json('POST', '/api/files/delete', { path: '/docs/a/b.txt' })).json
      .trashId;
    const dirTrash = (await json('POST', '/api/files/delete', { path: '/docs' })).json.trashId;
    expect((await raw(c, 'GET', '/dav/docs/', auth)).status).toBe(404);
    const items = (await json('GET', '/api/trash')).json.items;
    expect(items.map((i: { path: string }) => i.path)).toEqual(['/docs', '/docs/a/b.txt']);
    expect((await json('POST', `/api/trash/${fileTrash}/restore`)).json.path).toBe('/docs/a/b.txt');
    expect((await raw(c, 'GET', '/dav/docs/a/b.txt', auth)).body).toBe('bee');
    // The folder comes back beside the recreated one, under a new name.
    expect((await json('POST', `/api/trash/${dirTrash}/restore`)).json.path).toBe(
      '/docs (restored)',
    );
    expect((await json('GET', '/api/files?path=/docs (restored)/a')).json.entries).toEqual([]);
    expect(events.map((e) => e.kind)).toEqual(
      expect.arrayContaining(['mkdir', 'write', 'delete', 'restore']),
    );
    expect(events.every((e) => e.wallet === wallet)).toBe(true);
  });

  it('purges the trash after 30 days (injected clock), freeing the quota and the blob on disk', async () => {
    await raw(c, 'PUT', '/dav/old.bin', auth, Buffer.alloc(100_000, 1));
    const blob = c.cloud.store.resolve(wallet, ['old.bin'])!.blob!;
    const usedBefore = (await json('GET', '/api/quota')).json.used;
    const id = (await json('POST', '/api/files/delete', { path: '/old.bin' })).json.trashId;
    expect((await json('GET', '/api/quota')).json.used).toBe(usedBefore);
    clock.t += 29 * DAY;
    expect((await c.cloud.sweep()).trash).toBe(0);
    expect(
      (await json('GET', '/api/trash')).json.items.some((i: { id: number }) => i.id === id),
    ).toBe(true);
    clock.t += 2 * DAY;
    expect((await c.cloud.sweep()).trash).toBeGreaterThan(0);
    expect(
      (await json('GET', '/api/trash')).json.items.some((i: { id: number }) => i.id === id),
    ).toBe(false);
    expect((await json('GET', '/api/quota')).json.used).toBe(usedBefore - 100_000);
    await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(join(c.dir, 'blobs', blob.slice(0, 2), blob))).toBe(false);
    expect((await json('POST', `/api/trash/${id}/restore`)).status).toBe(404);
  });

  it('keeps versions on overwrite, serves and restores them, and thins them on the schedule', async () => {
    for (const [i, text] of ['one', 'two', 'three'].entries()) {
      clock.t += 2 * DAY + i;
      await raw(c, 'PUT', '/dav/notes.txt', auth, text);
    }
    const list = (await json('GET', '/api/versions?path=/notes.txt')).json;
    expect(list.versions.map((v: { size: number }) => v.size)).toEqual([3, 3]);
    const oldest = list.versions[1];
    expect(
      (await raw(c, 'GET', `/api/versions/content?path=/notes.txt&id=${oldest.id}`, auth)).body,
    ).toBe('one');
    expect(
      (await json('POST', '/api/versions/restore', { path: '/notes.txt', id: oldest.id })).status,
    ).toBe(200);
    expect((await raw(c, 'GET', '/dav/notes.txt', auth)).body).toBe('one');
    const after = (await json('GET', '/api/versions?path=/notes.txt')).json.versions;
    expect(after).toHaveLength(2);
    // Ten saves within one second keep only the newest of that second.
    clock.t += DAY;
    for (let i = 0; i < 10; i++) {
      clock.t += 50;
      await raw(c, 'PUT', '/dav/notes.txt', auth, `burst ${i}`);
    }
    const thinned = (await json('GET', '/api/versions?path=/notes.txt')).json.versions;
    expect(thinned.filter((v: { size: number }) => v.size === 'burst 0'.length)).toHaveLength(1);
    expect(thinned.length).toBeLessThanOrEqual(after.length + 2);
    expect((await json('GET', '/api/versions?path=/')).status).toBe(400);
  });

  it('answers 507 when a wallet is full: declared, streamed without a length, and at tus creation; nothing partial is kept', async () => {
    const q = (await json('GET', '/api/quota')).json;
    const room = q.available;
    const tooBig = Buffer.alloc(room + 1, 2);
    const declared = await raw(c, 'PUT', '/dav/big.bin', auth, tooBig);
    expect(declared.status).toBe(507);
    expect(JSON.parse(declared.body).error.code).toBe('QUOTA_EXCEEDED');
    const streamed = await fetch(`${c.url}/dav/big.bin`, {
      method: 'PUT',
      headers: auth,
      body: Readable.toWeb(
        Readable.from([tooBig.subarray(0, 1000), tooBig.subarray(1000)]),
      ) as never,
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(507);
    expect((await raw(c, 'GET', '/dav/big.bin', auth)).status).toBe(404);
    const tus = await raw(c, 'POST', '/tus/', {
      ...auth,
      'tus-resumable': '1.0.0',
      'upload-length': String(room + 1),
      'upload-metadata': 'filename ' + Buffer.from('t.bin').toString('base64'),
    });
    expect(tus.status).toBe(507);
    expect((await json('GET', '/api/quota')).json.used).toBe(q.used);
    expect((await raw(c, 'PUT', '/dav/fits.bin', auth, Buffer.alloc(room, 3))).status).toBe(201);
    expect((await json('GET', '/api/quota')).json.available).toBe(0);
  });
});
