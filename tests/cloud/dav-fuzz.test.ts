import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasSqlite, ownedCloud, raw, type TestCloud } from './helpers.ts';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

const METHODS = [
  'GET',
  'HEAD',
  'PUT',
  'DELETE',
  'MKCOL',
  'COPY',
  'MOVE',
  'PROPFIND',
  'PROPPATCH',
  'LOCK',
  'UNLOCK',
  'OPTIONS',
  'POST',
  'PATCH',
  'SEARCH',
  'REPORT',
  'ACL',
  'BIND',
];
const PATHS = [
  '/dav/',
  '/dav/f.txt',
  '/dav/d/',
  '/dav/d/x',
  '/dav/nope/x',
  '/dav/%',
  '/dav/%ff',
  '/tus/',
  '/tus/00',
  '/api/files',
  '/s/x',
  '/',
  '/dav',
];
const HEADERS: Record<string, string[]> = {
  depth: ['0', '1', 'infinity', '2', '-1', '', 'x'.repeat(300)],
  overwrite: ['T', 'F', 'X', ''],
  destination: [
    '/dav/g.txt',
    'http://evil/dav/x',
    '::::',
    '/dav/%zz',
    '/dav/d/deeper/x',
    '/dav/f.txt',
    'http://127.0.0.1:1/dav/x',
  ],
  if: [
    '(<opaquelocktoken:x>)',
    '(Not <DAV:no-lock>)',
    '<http://x/dav/f.txt> (["e"])',
    '((',
    '(<',
    '(Not)',
    '<>',
    '(["unterminated)',
    '()',
  ],
  'lock-token': ['<opaquelocktoken:x>', 'x', '<>', ''],
  timeout: ['Second-10', 'Infinite', 'Second-99999999999999999999', 'x', 'Second--5'],
  range: [
    'bytes=0-1',
    'bytes=5-2',
    'bytes=-0',
    'bytes=99999999999999999999-',
    'bytes=0-1,3-4',
    'items=1-2',
    'bytes=--1',
  ],
  'if-range': ['"x"', 'W/"x"', 'Mon, 01 Jan 1990 00:00:00 GMT', 'garbage'],
  'if-match': ['*', '"x"', ''],
  'if-none-match': ['*', '"x"', 'W/"x"'],
  'content-type': [
    'application/xml',
    'application/json',
    'application/offset+octet-stream',
    'text/plain',
  ],
  'tus-resumable': ['1.0.0', '0.2.2', ''],
  'upload-length': ['10', '-1', 'x', '99999999999999999999'],
  'upload-offset': ['0', '5', 'x'],
  'upload-metadata': ['filename ZmlsZQ==', 'filename !!!', ',,,', 'path Lw==', 'path Li4vZXRj'],
  'upload-checksum': ['sha1 x', 'crc32 AAAA', 'sha1'],
  'x-oc-mtime': ['1', 'x', '99999999999999'],
};
const BODIES = [
  '',
  '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>',
  '<D:propfind xmlns:D="DAV:"><D:prop><x:a xmlns:x="urn:x"/></D:prop></D:propfind>',
  '<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><x:a xmlns:x="urn:x">v</x:a></D:prop></D:set></D:propertyupdate>',
  '<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:getetag>x</D:getetag></D:prop></D:set></D:propertyupdate>',
  '<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>',
  '<D:lockinfo xmlns:D="DAV:"><D:lockscope/></D:lockinfo>',
  '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><D:propfind xmlns:D="DAV:">&lol2;</D:propfind>',
  '<a xmlns:p=""><p:b/></a>',
  '<D:propfind xmlns:D="DAV:">' + '<x>'.repeat(5000) + '</x>'.repeat(5000) + '</D:propfind>',
  '<<<>>>',
  '{"path":"/x"}',
  '{"path":',
  '\u0000\u0001\u0002',
  'x'.repeat(70_000),
  '<D:propfind xmlns:D="DAV:"><D:prop><D:foo xmlns:D="urn:other"/></D:prop></D:propfind>',
];

describe.skipIf(!hasSqlite)('cloud never crashes on hostile methods, headers and bodies', () => {
  let c: TestCloud;
  let basic: string;
  let cookie: string;

  beforeAll(async () => {
    const owned = await ownedCloud();
    c = owned.c;
    basic = owned.basic;
    cookie = owned.owner.cookie;
    await raw(c, 'PUT', '/dav/f.txt', { authorization: basic }, 'hello');
    await raw(c, 'MKCOL', '/dav/d', { authorization: basic });
  });
  afterAll(() => c.stop());

  it('answers 1500 random requests with < 500 and stays up (smoke; the long fuzz is npm run fuzz:cloud)', async () => {
    const next = rng(Number(process.env.CLOUD_FUZZ_SEED ?? 0xdab));
    const pick = <T>(xs: T[]): T => xs[Math.floor(next() * xs.length)];
    const count = Number(process.env.CLOUD_FUZZ_COUNT ?? 1500);
    for (let i = 0; i < count; i++) {
      const headers: Record<string, string> =
        next() < 0.5 ? { authorization: basic } : { cookie, origin: c.url };
      for (const [name, values] of Object.entries(HEADERS))
        if (next() < 0.2) headers[name] = pick(values);
      const method = pick(METHODS);
      const path = pick(PATHS);
      const body = next() < 0.6 ? pick(BODIES) : undefined;
      const label = `${method} ${path} ${JSON.stringify(headers)} ${body?.slice(0, 80)}`;
      const r = await raw(c, method, path, headers, body).catch((e) => {
        throw new Error(`${label}: ${e}`);
      });
      // 502 is WebDAV's answer to a COPY/MOVE whose Destination is another server (RFC 4918 §9.8.5).
      const allowed =
        r.status < 500 || (r.status === 502 && (method === 'COPY' || method === 'MOVE'));
      expect(allowed, `${r.status} ${label}`).toBe(true);
      if (r.status >= 400 && r.headers['content-type']?.toString().startsWith('application/json')) {
        if (method !== 'HEAD') expect(JSON.parse(r.body).error.code, label).toMatch(/^[A-Z_]+$/);
      }
    }
    expect((await raw(c, 'PROPFIND', '/dav/', { authorization: basic, depth: '1' })).status).toBe(
      207,
    );
    // Locks the fuzz took (some on the root, for an hour) would make the next tests' writes 423.
    c.cloud.store.db.run('DELETE FROM locks');
  });

  it('bounds the dead properties one resource can hold (507), keeping the ones set before', async () => {
    await raw(c, 'PUT', '/dav/props.txt', { authorization: basic }, 'p');
    const set = (name: string, size: number) =>
      raw(
        c,
        'PROPPATCH',
        '/dav/props.txt',
        { authorization: basic, 'content-type': 'application/xml' },
        `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><x:${name} xmlns:x="urn:x">${'v'.repeat(size)}</x:${name}></D:prop></D:set></D:propertyupdate>`,
      );
    expect((await set('small', 100)).status).toBe(207);
    const big = await set('big', 70_000);
    expect(big.status).toBe(507);
    expect(JSON.parse(big.body).error.code).toBe('QUOTA_EXCEEDED');
    const got = await raw(
      c,
      'PROPFIND',
      '/dav/props.txt',
      { authorization: basic, depth: '0' },
      '<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>',
    );
    expect(got.body).toContain('<small xmlns="urn:x">');
    expect(got.body).not.toContain('<big');
  });

  it('survives garbage on the socket and a body cut off mid-upload', async () => {
    await raw(c, 'PUT', '/dav/keep.txt', { authorization: basic }, 'hello');
    for (const junk of [
      'GARBAGE\r\n\r\n',
      'GET /dav/ HTTP/1.1\r\nHost: \u0000\r\n\r\n',
      'PUT /dav/cut.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000000\r\n\r\n' +
        'x'.repeat(1000),
    ]) {
      await new Promise<void>((resolve) => {
        const s = connect(c.port, '127.0.0.1', () => {
          s.write(
            junk.replace('Host: 127.0.0.1', `Host: 127.0.0.1:${c.port}\r\nAuthorization: ${basic}`),
          );
          setTimeout(() => s.destroy(), 50);
        });
        s.on('error', () => {});
        s.on('close', () => resolve());
      });
    }
    expect((await raw(c, 'GET', '/dav/cut.bin', { authorization: basic })).status).toBe(404);
    expect((await raw(c, 'GET', '/dav/keep.txt', { authorization: basic })).body).toBe('hello');
  });
});
