import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasSqlite, ownedCloud, raw, type TestCloud } from './helpers.ts';

describe.skipIf(!hasSqlite)(
  'cloud content: ranges, validators, and user content that never runs as the node',
  () => {
    let c: TestCloud;
    let auth: Record<string, string>;
    const body = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));

    beforeAll(async () => {
      const owned = await ownedCloud();
      c = owned.c;
      auth = { authorization: owned.basic };
      expect((await raw(c, 'PUT', '/dav/data.bin', auth, body)).status).toBe(201);
    });
    afterAll(() => c.stop());

    it('serves 206 for a byte range, 416 past the end, ignores a stale If-Range, and 304 on a matching ETag', async () => {
      const full = await raw(c, 'GET', '/dav/data.bin', auth);
      const etag = full.headers.etag as string;
      const lastModified = full.headers['last-modified'] as string;
      expect(full.status).toBe(200);
      expect(full.headers['accept-ranges']).toBe('bytes');
      expect(etag).toMatch(/^"[0-9a-f]+"$/);
      expect(new Date(lastModified).getTime()).toBeGreaterThan(0);
      const part = await raw(c, 'GET', '/dav/data.bin', { ...auth, range: 'bytes=10-19' });
      expect(part.status).toBe(206);
      expect(part.headers['content-range']).toBe('bytes 10-19/1000');
      expect(Buffer.from(part.body, 'latin1').length).toBe(10);
      const suffix = await raw(c, 'GET', '/dav/data.bin', { ...auth, range: 'bytes=-5' });
      expect(suffix.headers['content-range']).toBe('bytes 995-999/1000');
      const beyond = await raw(c, 'GET', '/dav/data.bin', { ...auth, range: 'bytes=1000-' });
      expect(beyond.status).toBe(416);
      expect(beyond.headers['content-range']).toBe('bytes */1000');
      expect(
        (await raw(c, 'GET', '/dav/data.bin', { ...auth, range: 'bytes=0-0', 'if-range': etag }))
          .status,
      ).toBe(206);
      expect(
        (
          await raw(c, 'GET', '/dav/data.bin', {
            ...auth,
            range: 'bytes=0-0',
            'if-range': '"stale"',
          })
        ).status,
      ).toBe(200);
      expect(
        (
          await raw(c, 'GET', '/dav/data.bin', {
            ...auth,
            range: 'bytes=0-0',
            'if-range': lastModified,
          })
        ).status,
      ).toBe(206);
      expect(
        (await raw(c, 'GET', '/dav/data.bin', { ...auth, 'if-none-match': etag })).status,
      ).toBe(304);
      expect(
        (await raw(c, 'GET', '/dav/data.bin', { ...auth, 'if-none-match': '"other"' })).status,
      ).toBe(200);
      expect(
        (await raw(c, 'GET', '/dav/data.bin', { ...auth, 'if-modified-since': lastModified }))
          .status,
      ).toBe(304);
      // Overwriting changes the ETag, so the old one no longer matches.
      await raw(c, 'PUT', '/dav/data.bin', auth, 'new');
      expect(
        (await raw(c, 'GET', '/dav/data.bin', { ...auth, 'if-none-match': etag })).status,
      ).toBe(200);
      expect(
        (await raw(c, 'PUT', '/dav/data.bin', { ...auth, 'if-match': etag }, 'x')).status,
      ).toBe(412);
      expect(
        (await raw(c, 'PUT', '/dav/new.bin', { ...auth, 'if-none-match': '*' }, 'x')).status,
      ).toBe(201);
      expect(
        (await raw(c, 'PUT', '/dav/new.bin', { ...auth, 'if-none-match': '*' }, 'x')).status,
      ).toBe(412);
    });

    it('serves HTML and SVG as sandboxed attachments with nosniff; images inline, still sandboxed', async () => {
      await raw(c, 'PUT', '/dav/page.html', auth, '<script>alert(document.cookie)</script>');
      await raw(
        c,
        'PUT',
        '/dav/pic.svg',
        auth,
        '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
      );
      await raw(c, 'PUT', '/dav/photo.png', auth, Buffer.from([0x89, 0x50, 0x4e, 0x47]));
      await raw(c, 'PUT', '/dav/noext', auth, '<html><script>alert(1)</script>');
      for (const name of ['page.html', 'pic.svg', 'noext']) {
        const r = await raw(c, 'GET', `/dav/${name}`, auth);
        expect(r.headers['content-disposition'], name).toMatch(/^attachment; filename="/);
        expect(r.headers['content-security-policy'], name).toMatch(/^sandbox/);
        expect(r.headers['x-content-type-options'], name).toBe('nosniff');
      }
      const png = await raw(c, 'GET', '/dav/photo.png', auth);
      expect(png.headers['content-type']).toBe('image/png');
      expect(png.headers['content-disposition']).toMatch(/^inline/);
      expect(png.headers['content-security-policy']).toMatch(/^sandbox/);
      // Through the API too, and every JSON answer carries nosniff.
      const api = await raw(c, 'GET', '/api/files/content?path=/page.html', auth);
      expect(api.headers['content-disposition']).toMatch(/^attachment/);
      expect((await raw(c, 'GET', '/api/me', auth)).headers['x-content-type-options']).toBe(
        'nosniff',
      );
    });

    it('answers OPTIONS without credentials, on /dav/ and on the server root (Windows probes it)', async () => {
      for (const path of ['/', '/dav/', '/dav/photo.png']) {
        const r = await raw(c, 'OPTIONS', path);
        expect(r.status, path).toBe(200);
        expect(r.headers.dav, path).toBe('1, 2');
        expect(String(r.headers.allow), path).toContain('PROPFIND');
      }
    });

    it('streams HEAD without a body and lists a folder as plain text, never HTML', async () => {
      const head = await raw(c, 'HEAD', '/dav/photo.png', auth);
      expect(head.status).toBe(200);
      expect(head.headers['content-length']).toBe('4');
      expect(head.body).toBe('');
      const dir = await raw(c, 'GET', '/dav/', auth);
      expect(dir.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(dir.body.split('\n')).toContain('page.html');
    });
  },
);
