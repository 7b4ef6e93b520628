import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasSqlite, ownedCloud, raw, type TestCloud } from './helpers.ts';

const NAVIGATE = { 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' };

describe.skipIf(!hasSqlite)('cloud file manager page and share page (server side)', () => {
  let c: TestCloud;
  let auth: Record<string, string>;
  let json: Record<string, string>;

  beforeAll(async () => {
    const owned = await ownedCloud();
    c = owned.c;
    auth = { authorization: owned.basic };
    json = { ...auth, 'content-type': 'application/json' };
    await raw(c, 'PUT', '/dav/notes.txt', auth, 'plain words');
    await raw(c, 'PUT', '/dav/page.html', auth, '<script>alert(1)</script>');
  });
  afterAll(() => c.stop());

  it('serves the page at / with a strict CSP and hashed, immutable assets', async () => {
    const page = await raw(c, 'GET', '/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    const csp = String(page.headers['content-security-policy']);
    for (const d of [
      "default-src 'none'",
      "script-src 'self'",
      "frame-ancestors 'none'",
      "require-trusted-types-for 'script'",
      "base-uri 'none'",
    ])
      expect(csp).toContain(d);
    expect(page.headers['x-frame-options']).toBe('DENY');
    const assets = [...page.body.matchAll(/(?:src|href)="(\/ui\/[^"]+)"/g)].map((m) => m[1]);
    expect(assets).toHaveLength(3);
    for (const a of assets) {
      expect(a).toMatch(/^\/ui\/(app|icon)-[A-Za-z0-9_-]{8,}\.(js|css|svg)$/);
      const r = await raw(c, 'GET', a);
      expect(r.status, a).toBe(200);
      expect(r.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect((await raw(c, 'GET', a, { 'if-none-match': String(r.headers.etag) })).status).toBe(
        304,
      );
      // Compressed once when built, sent to clients that take it.
      const br = await fetch(c.url + a, { headers: { 'accept-encoding': 'br' } });
      expect(br.headers.get('content-encoding'), a).toBe('br');
      expect(await br.text()).toBe(r.body);
      expect(
        (await raw(c, 'GET', a, { 'accept-encoding': 'gzip, br;q=0' })).headers['content-encoding'],
      ).toBe('gzip');
    }
    expect((await raw(c, 'GET', '/', { 'if-none-match': String(page.headers.etag) })).status).toBe(
      304,
    );
    const head = await raw(c, 'HEAD', '/');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect((await raw(c, 'GET', '/ui/app-NOPE.js')).status).toBe(404);
    expect((await raw(c, 'GET', '/ui/../cloud.db')).status).toBe(404);
    expect((await raw(c, 'POST', '/', { 'content-type': 'application/json' }, '{}')).status).toBe(
      405,
    );
  });

  it('asks for Basic credentials on a 401, except from within a page (no browser password pop-up)', async () => {
    const tool = await raw(c, 'GET', '/api/me');
    expect(tool.status).toBe(401);
    expect(tool.headers['www-authenticate']).toMatch(/^Basic /);
    // Node's fetch sends Sec-Fetch-Mode too; only browsers send Sec-Fetch-Dest.
    expect(
      (await raw(c, 'GET', '/api/me', { 'sec-fetch-mode': 'cors' })).headers['www-authenticate'],
    ).toMatch(/^Basic /);
    for (const dest of ['empty', 'image', 'video', 'iframe']) {
      const inPage = await raw(c, 'GET', '/api/me', {
        'sec-fetch-mode': 'cors',
        'sec-fetch-site': 'same-origin',
        'sec-fetch-dest': dest,
      });
      expect(inPage.status).toBe(401);
      expect(inPage.headers['www-authenticate'], dest).toBeUndefined();
    }
    expect((await raw(c, 'GET', '/dav/', NAVIGATE)).headers['www-authenticate']).toMatch(/^Basic /);
  });

  it('previews HTML inline only in a frame the browser says is a frame, still sandboxed', async () => {
    const framed = await raw(c, 'GET', '/api/files/content?path=/page.html&preview=1', {
      ...auth,
      'sec-fetch-dest': 'iframe',
    });
    expect(framed.headers['content-disposition']).toMatch(/^inline/);
    expect(framed.headers['content-security-policy']).toMatch(
      /^sandbox; default-src 'none'.*frame-ancestors 'self'/,
    );
    expect(
      (
        await raw(c, 'GET', '/api/files/content?path=/page.html&preview=1', {
          ...auth,
          'sec-fetch-dest': 'document',
        })
      ).headers['content-disposition'],
    ).toMatch(/^attachment/);
    expect(
      (
        await raw(c, 'GET', '/api/files/content?path=/page.html', {
          ...auth,
          'sec-fetch-dest': 'iframe',
        })
      ).headers['content-disposition'],
    ).toMatch(/^attachment/);
  });

  it('a browser opening a share link gets the share page; scripts, ?download and members get the content', async () => {
    const created = JSON.parse(
      (await raw(c, 'POST', '/api/shares', json, JSON.stringify({ path: '/notes.txt' }))).body,
    );
    const path = `/s/${created.token}`;
    const page = await raw(c, 'GET', path, NAVIGATE);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.headers.vary).toContain('Sec-Fetch-Dest');
    expect(page.body).toMatch(/src="\/ui\/share-[^"]+\.js"/);
    expect(page.body).not.toContain('notes.txt');
    expect((await raw(c, 'GET', path)).body).toBe('plain words');
    const download = await raw(c, 'GET', `${path}?download=1`, NAVIGATE);
    expect(download.body).toBe('plain words');
    expect(download.headers['content-disposition']).toMatch(/^attachment; filename="notes.txt"/);
    expect((await raw(c, 'GET', `${path}?meta=1`, { 'sec-fetch-mode': 'cors' })).body).toContain(
      '"name":"notes.txt"',
    );
    // The page keeps the link's status: revoked → 404, never-issued → 404.
    await raw(c, 'DELETE', `/api/shares/${created.id}`, auth);
    expect((await raw(c, 'GET', path, NAVIGATE)).status).toBe(404);
    expect((await raw(c, 'GET', `/s/${'A'.repeat(43)}`, NAVIGATE)).status).toBe(404);
  });
});
