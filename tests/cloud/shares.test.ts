import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasSqlite, ownedCloud, raw, type Session, type TestCloud } from './helpers.ts';

describe.skipIf(!hasSqlite)('cloud share links', () => {
  const clock = {
    t: Date.now(),
    now() {
      return this.t;
    },
  };
  let c: TestCloud;
  let owner: Session;
  let auth: Record<string, string>;

  beforeAll(async () => {
    const owned = await ownedCloud({ clock });
    c = owned.c;
    owner = owned.owner;
    auth = { authorization: owned.basic };
    await raw(c, 'MKCOL', '/dav/album', auth);
    await raw(c, 'MKCOL', '/dav/album/sub', auth);
    await raw(c, 'PUT', '/dav/album/sub/pic.txt', auth, 'picture');
    await raw(c, 'PUT', '/dav/doc.txt', auth, 'document body');
    await raw(c, 'MKCOL', '/dav/inbox', auth);
  });
  afterAll(() => c.stop());

  const share = async (body: Record<string, unknown>) => {
    const r = await raw(
      c,
      'POST',
      '/api/shares',
      { ...auth, 'content-type': 'application/json' },
      JSON.stringify(body),
    );
    return { status: r.status, json: JSON.parse(r.body) };
  };

  it('gives a 256-bit token; a read link serves the file (with ranges) to anyone, and nothing else', async () => {
    const s = await share({ path: '/doc.txt' });
    expect(s.status).toBe(201);
    expect(s.json.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(s.json.url).toBe(`${c.url}/s/${s.json.token}`);
    const got = await raw(c, 'GET', `/s/${s.json.token}`);
    expect(got.status).toBe(200);
    expect(got.body).toBe('document body');
    expect(got.headers['referrer-policy']).toBe('no-referrer');
    expect((await raw(c, 'GET', `/s/${s.json.token}`, { range: 'bytes=0-7' })).body).toBe(
      'document',
    );
    expect((await raw(c, 'PUT', `/s/${s.json.token}`, {}, 'x')).status).toBe(405);
    expect((await raw(c, 'GET', `/s/${s.json.token}/x`)).status).toBe(404);
    // Another token: its last character changed (a fixed 'A' was the token itself 1 time in 16).
    const other = s.json.token.slice(0, -1) + (s.json.token.endsWith('A') ? 'E' : 'A');
    expect((await raw(c, 'GET', `/s/${other}`)).status).toBe(404);
    expect((await raw(c, 'GET', '/s/short')).status).toBe(404);
  });

  it('a folder link lists and serves its members only', async () => {
    const s = await share({ path: '/album' });
    const meta = JSON.parse((await raw(c, 'GET', `/s/${s.json.token}?meta=1`)).body);
    expect(meta).toMatchObject({ name: 'album', dir: true, mode: 'read' });
    expect(meta.entries.map((e: { name: string }) => e.name)).toEqual(['sub']);
    expect((await raw(c, 'GET', `/s/${s.json.token}/sub/pic.txt`)).body).toBe('picture');
    for (const escape of [
      '/../doc.txt',
      '/%2e%2e/doc.txt',
      '/sub/..%2f..%2fdoc.txt',
      '/..\\doc.txt',
    ]) {
      const r = await raw(c, 'GET', `/s/${s.json.token}${escape}`);
      expect([400, 404], escape).toContain(r.status);
      expect(r.body).not.toContain('document body');
    }
  });

  it('an upload-only link takes new files into the folder and shows nothing', async () => {
    const s = await share({ path: '/inbox', mode: 'upload' });
    const t = s.json.token;
    expect((await raw(c, 'PUT', `/s/${t}/report.pdf`, {}, 'from a visitor')).status).toBe(201);
    expect((await raw(c, 'PUT', `/s/${t}/report.pdf`, {}, 'overwrite attempt')).status).toBe(409);
    expect((await raw(c, 'GET', `/s/${t}/report.pdf`)).status).toBe(403);
    expect((await raw(c, 'GET', `/s/${t}`)).status).toBe(403);
    expect((await raw(c, 'PUT', `/s/${t}/a/b.txt`, {}, 'x')).status).toBe(400);
    expect((await raw(c, 'GET', '/dav/inbox/report.pdf', auth)).body).toBe('from a visitor');
    expect((await share({ path: '/doc.txt', mode: 'upload' })).status).toBe(400);
  });

  it('a password link asks for it, rate-limits wrong guesses (429), and accepts header, Basic or an unlock cookie', async () => {
    const s = await share({ path: '/doc.txt', password: 'correct horse' });
    const t = s.json.token;
    expect((await raw(c, 'GET', `/s/${t}`)).status).toBe(401);
    for (let i = 0; i < 5; i++)
      expect((await raw(c, 'GET', `/s/${t}`, { 'x-share-password': `guess${i}` })).status).toBe(
        401,
      );
    const limited = await raw(c, 'GET', `/s/${t}`, { 'x-share-password': 'correct horse' });
    expect(limited.status).toBe(429);
    expect(JSON.parse(limited.body).error.code).toBe('RATE_LIMITED');
    clock.t += 61_000;
    expect((await raw(c, 'GET', `/s/${t}`, { 'x-share-password': 'correct horse' })).body).toBe(
      'document body',
    );
    const basic = 'Basic ' + Buffer.from(':correct horse').toString('base64');
    expect((await raw(c, 'GET', `/s/${t}`, { authorization: basic })).status).toBe(200);
    const unlock = await raw(
      c,
      'POST',
      `/s/${t}`,
      { 'content-type': 'application/json', origin: c.url },
      JSON.stringify({ password: 'correct horse' }),
    );
    expect(unlock.status).toBe(200);
    const cookie = String(unlock.headers['set-cookie']).split(';')[0];
    expect(String(unlock.headers['set-cookie'])).toMatch(/HttpOnly; SameSite=Lax/);
    expect((await raw(c, 'GET', `/s/${t}`, { cookie })).body).toBe('document body');
    const listed = JSON.parse((await raw(c, 'GET', '/api/shares', auth)).body).shares.find(
      (x: { id: string }) => x.id === s.json.id,
    );
    expect(listed).toMatchObject({ path: '/doc.txt', hasPassword: true, mode: 'read' });
    expect(JSON.stringify(listed)).not.toContain(t);
  });

  it('an expired link answers 410, a revoked one 404, and one whose file was deleted 404', async () => {
    const expiring = await share({ path: '/doc.txt', expiresAt: clock.t + 60_000 });
    expect((await raw(c, 'GET', `/s/${expiring.json.token}`)).status).toBe(200);
    clock.t += 61_000;
    const gone = await raw(c, 'GET', `/s/${expiring.json.token}`);
    expect(gone.status).toBe(410);
    expect(JSON.parse(gone.body).error.code).toBe('GONE');
    expect((await share({ path: '/doc.txt', expiresAt: clock.t - 1 })).status).toBe(400);
    const revoked = await share({ path: '/doc.txt' });
    expect(
      (await raw(c, 'DELETE', `/api/shares/${revoked.json.id}`, { ...auth, 'content-length': '0' }))
        .status,
    ).toBe(200);
    expect((await raw(c, 'GET', `/s/${revoked.json.token}`)).status).toBe(404);
    const pic = await share({ path: '/album/sub/pic.txt' });
    await raw(c, 'DELETE', '/dav/album/sub/pic.txt', auth);
    expect((await raw(c, 'GET', `/s/${pic.json.token}`)).status).toBe(404);
  });
});
