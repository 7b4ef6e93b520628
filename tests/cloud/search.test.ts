import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  hasSqlite,
  ownedCloud,
  raw,
  signIn,
  startCloud,
  wallet,
  type Session,
  type TestCloud,
} from './helpers.ts';

describe.skipIf(!hasSqlite)('cloud search', () => {
  let c: TestCloud;
  let owner: Session;
  let member: Session;
  let basic: string;
  const put = async (path: string, body: string | Buffer, auth = basic) => {
    const r = await raw(c, 'PUT', `/dav${path}`, { authorization: auth }, body);
    expect([201, 204]).toContain(r.status);
  };
  const search = async (s: Session, q: string) => {
    const r = await s.api('GET', `/api/search?q=${encodeURIComponent(q)}`);
    expect(r.status).toBe(200);
    return r.json.results as { path: string; match: string; snippet?: string; dir: boolean }[];
  };
  const paths = async (s: Session, q: string) => (await search(s, q)).map((r) => r.path).sort();

  beforeAll(async () => {
    const owned = await ownedCloud();
    c = owned.c;
    owner = owned.owner;
    basic = owned.basic;
    await owner.api('POST', '/api/members', { address: wallet(2).address });
    member = await signIn(c, wallet(2));
    await owner.api('POST', '/api/files/mkdir', { path: '/notes' });
    await put('/notes/groceries.md', '# Shopping\n\nbuy *avocados*, lentils and saffron\n');
    await put('/notes/ideas.txt', 'a résumé of the quarterly roadmap\n');
    await put('/src.ts', 'export function computeChecksum(x: number) { return x; }\n');
    // Binary content (a NUL early on) is indexed by name only.
    await put(
      '/photo.bin',
      Buffer.concat([Buffer.from('saffron'), Buffer.alloc(16), Buffer.from('saffron')]),
    );
    await put('/Ünïcödé 日本語.txt', 'kanji 東京\n');
  });
  afterAll(() => c?.stop());

  it('finds contents of text, Markdown and code, by word and prefix, with a snippet', async () => {
    const hits = await search(owner, 'saffron');
    expect(hits.map((h) => h.path)).toEqual(['/notes/groceries.md']);
    expect(hits[0].match).toBe('content');
    expect(hits[0].snippet).toContain('saffron');
    expect(await paths(owner, 'computeCheck')).toEqual(['/src.ts']);
    expect(await paths(owner, 'resume quarterly')).toEqual(['/notes/ideas.txt']); // diacritics folded, words ANDed
    expect(await paths(owner, 'saffron nowhere')).toEqual([]);
  });

  it('finds file and folder names by substring, any script, and short words', async () => {
    expect(await paths(owner, 'roce')).toEqual(['/notes/groceries.md']);
    expect(await paths(owner, 'NOTES')).toEqual(['/notes']);
    expect(await paths(owner, '日本')).toEqual(['/Ünïcödé 日本語.txt']);
    expect(await paths(owner, 'ts')).toContain('/src.ts');
    expect((await search(owner, 'groceries'))[0].match).toBe('name');
  });

  it('treats query syntax as plain words', async () => {
    for (const q of ['"', 'a OR b', 'NEAR(x y)', '*', 'name:x', '^saffron', "')--", '%', '_']) {
      const r = await owner.api('GET', `/api/search?q=${encodeURIComponent(q)}`);
      expect(r.status, q).toBe(200);
    }
    expect((await owner.api('GET', '/api/search?q=')).status).toBe(400);
    expect((await owner.api('GET', `/api/search?q=${'x'.repeat(600)}`)).status).toBe(400);
  });

  it('is scoped to the signed-in wallet', async () => {
    expect(await paths(member, 'saffron')).toEqual([]);
    expect(await paths(member, 'groceries')).toEqual([]);
    await member.fetch('/dav/mine.txt', { method: 'PUT', body: 'saffron of the member' });
    expect(await paths(member, 'saffron')).toEqual(['/mine.txt']);
    expect(await paths(owner, 'saffron')).toEqual(['/notes/groceries.md']);
  });

  it('follows every write, move, delete, restore and purge at once', async () => {
    await put('/notes/groceries.md', 'now only cardamom\n');
    expect(await paths(owner, 'saffron')).toEqual([]);
    expect(await paths(owner, 'cardamom')).toEqual(['/notes/groceries.md']);
    expect(
      (await owner.api('POST', '/api/files/move', { from: '/notes', to: '/archive' })).status,
    ).toBe(200);
    expect(await paths(owner, 'cardamom')).toEqual(['/archive/groceries.md']);
    expect(
      (await owner.api('POST', '/api/files/copy', { from: '/archive', to: '/copy' })).status,
    ).toBe(200);
    expect(await paths(owner, 'cardamom')).toEqual(['/archive/groceries.md', '/copy/groceries.md']);
    const del = await owner.api('POST', '/api/files/delete', { path: '/copy' });
    expect(await paths(owner, 'cardamom')).toEqual(['/archive/groceries.md']);
    expect((await owner.api('POST', `/api/trash/${del.json.trashId}/restore`)).status).toBe(200);
    expect(await paths(owner, 'cardamom')).toEqual(['/archive/groceries.md', '/copy/groceries.md']);
    const del2 = await owner.api('POST', '/api/files/delete', { path: '/copy' });
    const before = c.cloud.search.indexer.index.count();
    expect((await owner.api('DELETE', `/api/trash/${del2.json.trashId}`)).status).toBe(200);
    await c.cloud.search.indexer.idle(5000);
    expect(c.cloud.search.indexer.index.count()).toBe(before - 3); // the folder and its two files
  });

  it('rebuilds a missing index at start from the store', async () => {
    const dir = c.dir;
    const d = await startCloudAgain(dir);
    try {
      const o = await signIn(d, wallet(1));
      await d.cloud.search.indexer.idle(10_000);
      expect(await paths(o, 'cardamom')).toEqual(['/archive/groceries.md']);
    } finally {
      await d.stop();
    }
  });

  async function startCloudAgain(dir: string): Promise<TestCloud> {
    // The same data directory without its search index: a fresh process must build it.
    await c.close();
    for (const f of ['search.db', 'search.db-wal', 'search.db-shm'])
      rmSync(join(dir, f), { force: true });
    expect(existsSync(join(dir, 'search.db'))).toBe(false);
    return startCloud({ dataDir: dir });
  }
});
